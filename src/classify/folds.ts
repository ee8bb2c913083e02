import { Rng } from '../core/random.js';

/**
 * Stratified k-fold assignment: each category's items are shuffled (seeded) and dealt round
 * the folds, so every fold holds about the same mix of categories. Returns each item's fold.
 */
export function stratifiedFolds(labels: Int32Array, folds: number, seed = 1): Int32Array {
  if (!Number.isInteger(folds) || folds < 2) throw new RangeError(`folds must be an integer >= 2, got ${folds}`);
  const rng = new Rng(seed);
  const byClass = new Map<number, number[]>();
  labels.forEach((c, i) => {
    const list = byClass.get(c);
    if (list) list.push(i);
    else byClass.set(c, [i]);
  });
  const fold = new Int32Array(labels.length);
  let next = 0; // continue dealing where the last category stopped, so fold sizes stay even
  for (const c of [...byClass.keys()].sort((a, b) => a - b)) {
    for (const i of rng.shuffle(byClass.get(c)!)) {
      fold[i] = next;
      next = (next + 1) % folds;
    }
  }
  return fold;
}

/** Rows of `x` (n × dim) whose index is in `idx`. */
export function takeRows(x: Float32Array, dim: number, idx: ArrayLike<number>): Float32Array {
  const out = new Float32Array(idx.length * dim);
  for (let r = 0; r < idx.length; r++) out.set(x.subarray(idx[r]! * dim, (idx[r]! + 1) * dim), r * dim);
  return out;
}

/** Indices of items in fold `f` (test) and in the other folds (train). */
export function splitFold(fold: Int32Array, f: number): { train: Int32Array; test: Int32Array } {
  const train: number[] = [];
  const test: number[] = [];
  fold.forEach((g, i) => (g === f ? test : train).push(i));
  return { train: Int32Array.from(train), test: Int32Array.from(test) };
}
