import { crossValidate } from '../classify/train-classifier.js';
import type { FeatureRows } from '../classify/features.js';
import type { VectorStore } from '../store/port.js';

/** The category classifier's cross-validated accuracy on a labelled catalogue. */
export interface ClassifierAccuracy {
  folds: number;
  /** Items classified (each predicted by a fold model that never saw its label). */
  items: number;
  accuracy: number;
  /** Mean per-label recall: accuracy with every label counting the same. */
  balancedAccuracy: number;
  /** The labels, in the order of the confusion matrix's rows and columns. */
  categories: string[];
  /** confusion[true][predicted] counts. */
  confusion: number[][];
  seconds: number;
}

/** Cross-validation folds (as the lab's CIFAR-10 protocol). */
const FOLDS = 5;

/**
 * Cross-validates the category classifier (src/classify) on the stored features of labelled
 * items: k-fold, stratified, no temperature fit (accuracy does not depend on it) and no mirror
 * images (they need a model run per image). Returns null with the reason when there is not
 * enough to train on.
 */
export async function classifierAccuracy(
  store: Pick<VectorStore, 'getItemsWithVectors' | 'fileStates'>,
  labelOf: ReadonlyMap<string, string>,
  opts: { folds?: number; onProgress?: (done: number, total: number) => void } = {},
): Promise<ClassifierAccuracy | { notMeasured: string }> {
  const started = performance.now();
  // One row per stored item (identical files are stored once), labelled by its first file.
  const labelOfId = new Map<string, string>();
  for (const s of await store.fileStates()) {
    const l = labelOf.get(s.path);
    if (l !== undefined && !labelOfId.has(s.id)) labelOfId.set(s.id, l);
  }
  const counts = new Map<string, number>();
  for (const l of labelOfId.values()) counts.set(l, (counts.get(l) ?? 0) + 1);
  // A label needs one image to train on while another is tested.
  const usable = new Set([...counts].filter(([, n]) => n >= 2).map(([l]) => l));
  if (usable.size < 2) return { notMeasured: 'needs at least two labels with two images or more' };
  // Sorted, so the folds (seeded) do not depend on the order the images were indexed in.
  const ids = [...labelOfId.keys()].filter((id) => usable.has(labelOfId.get(id)!)).sort();
  const items = [];
  for (let start = 0; start < ids.length; start += 500) items.push(...(await store.getItemsWithVectors(ids.slice(start, start + 500))));
  const fd = items[0]?.vector.length ?? 0;
  const pd = items[0]?.probs.length ?? 0;
  const rows: FeatureRows = { count: items.length, features: new Float32Array(items.length * fd), probs: new Float32Array(items.length * pd) };
  items.forEach((it, i) => {
    rows.features.set(it.vector, i * fd);
    rows.probs.set(it.probs, i * pd);
  });
  const labels = items.map((it) => labelOfId.get(it.id)!);
  // No more folds than the smallest label has images, so every fold tests each label.
  const folds = Math.max(2, Math.min(opts.folds ?? FOLDS, Math.min(...[...usable].map((l) => counts.get(l)!))));
  const cv = crossValidate(rows, labels, {
    folds,
    calibrate: false,
    ...(pd === 0 ? { inputs: ['features'] as const } : {}),
    onProgress: (_stage, done, total) => opts.onProgress?.(done, total),
  });
  return {
    folds: cv.folds,
    items: rows.count,
    accuracy: cv.accuracy,
    balancedAccuracy: cv.balancedAccuracy,
    categories: cv.categories,
    confusion: cv.confusion,
    seconds: (performance.now() - started) / 1000,
  };
}
