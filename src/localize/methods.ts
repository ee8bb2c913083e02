/**
 * The localisation methods' names, apart from localizer.ts so that the CLI can check a --method
 * (and `visor index` can load the domain commands) without loading sharp.
 */
export type LocalizeMethod = 'activation' | 'border' | 'activation+colour' | 'border+colour' | 'combined+colour';

export const LOCALIZE_METHODS: readonly LocalizeMethod[] = ['activation', 'border', 'activation+colour', 'border+colour', 'combined+colour'];
export const DEFAULT_LOCALIZE_METHOD: LocalizeMethod = 'border+colour';
