/**
 * The localisation methods' names, apart from localizer.ts so that the CLI can check a --method
 * (and `visor index` can load the domain commands) without loading sharp.
 */
export type SaliencyMethod = 'activation' | 'border' | 'activation+colour' | 'border+colour' | 'combined+colour';
/** The saliency methods, and `objects`: the object detector's box (stored facts, or the detector run), refined by colour. */
export type LocalizeMethod = SaliencyMethod | 'objects';

export const LOCALIZE_METHODS: readonly LocalizeMethod[] = ['activation', 'border', 'activation+colour', 'border+colour', 'combined+colour', 'objects'];
export const DEFAULT_LOCALIZE_METHOD: SaliencyMethod = 'border+colour';
