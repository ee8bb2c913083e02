import path from 'node:path';
import { VisorError } from '../errors.js';
import { CategoryClassifier, type CategoryPredictor } from '../classify/category-classifier.js';

/**
 * Where a collection's category predictor comes from, as recorded in its settings. `trained`
 * is a classifier file from `visor-lab train classify`; `zero-shot` maps category names to ImageNet
 * classes through WordNet (no labels needed, see classify/zero-shot.ts). Other kinds plug in
 * through `registerPredictorKind`.
 */
export type PredictorSpec = { kind: 'trained'; file: string } | { kind: 'zero-shot'; categories: string[] } | { kind: string; [option: string]: unknown };

export type PredictorLoader = (spec: PredictorSpec) => Promise<CategoryPredictor>;

const loaders = new Map<string, PredictorLoader>([
  ['trained', async (spec) => CategoryClassifier.load(path.resolve(String((spec as { file: string }).file)))],
  [
    'zero-shot',
    async (spec) => {
      const { ZeroShotPredictor } = await import('../classify/zero-shot.js');
      return ZeroShotPredictor.create((spec as { categories: string[] }).categories);
    },
  ],
]);

/** Makes a new kind of predictor available to `visor categorize` and narrowing. */
export function registerPredictorKind(kind: string, loader: PredictorLoader): void {
  loaders.set(kind, loader);
}

export async function loadPredictor(spec: PredictorSpec): Promise<CategoryPredictor> {
  const loader = loaders.get(spec.kind);
  if (!loader) throw new VisorError('QUERY_INVALID', `unknown category predictor kind ${JSON.stringify(spec.kind)}; known: ${[...loaders.keys()].join(', ')}`);
  return loader(spec);
}
