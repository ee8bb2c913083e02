/**
 * Category narrowing: search the query's predicted categories first, the rest after.
 *
 * The query's categories are the most probable ones (at most `maxCategories`) whose calibrated
 * probability reaches `minConfidence`; when none does, the prediction is not trusted and the
 * whole index is searched as usual. Narrowing is a ranking, not a filter: items of the chosen
 * categories get a bonus larger than any cosine gap, so they come first in score order and the
 * others follow in score order (nothing is lost when the prediction was wrong).
 */
export interface NarrowOptions {
  /** Most categories searched first (default 2). */
  maxCategories?: number;
  /** Calibrated probability a category needs to be searched first (default 0.3). */
  minConfidence?: number;
}

export const DEFAULT_NARROW: Required<NarrowOptions> = { maxCategories: 2, minConfidence: 0.3 };

/** Cosine scores lie in [-1, 1]: a bonus of 4 puts every chosen item above every other. */
export const NARROW_BONUS = 4;

export interface CategoryChoice {
  /** The query's categories, most probable first, with probabilities. */
  predicted: Array<{ category: string; probability: number }>;
  /** Indices of the categories searched first; empty when the prediction is not trusted. */
  chosen: number[];
}

/** Picks the categories to search first from one query's probabilities. */
export function chooseCategories(probs: ArrayLike<number>, categories: readonly string[], opts: NarrowOptions = {}): CategoryChoice {
  const { maxCategories, minConfidence } = { ...DEFAULT_NARROW, ...opts };
  const order = Array.from({ length: categories.length }, (_, i) => i).sort((a, b) => probs[b]! - probs[a]!);
  const predicted = order.slice(0, Math.max(3, maxCategories)).map((i) => ({ category: categories[i]!, probability: probs[i]! }));
  const chosen = order.slice(0, maxCategories).filter((i) => probs[i]! >= minConfidence);
  return { predicted, chosen };
}

/**
 * Per-row bias for the exact kernel: NARROW_BONUS for rows whose stored category is chosen.
 * `categoryOf[row]` is the row's category index (-1 when it has none); rows already excluded
 * (-Infinity in `base`) stay excluded.
 */
export function narrowingBias(categoryOf: Int32Array, chosen: readonly number[], base?: Float32Array): Float32Array {
  const bias = base ? Float32Array.from(base) : new Float32Array(categoryOf.length);
  if (chosen.length === 0) return bias;
  const want = new Uint8Array(Math.max(0, ...chosen) + 1);
  for (const c of chosen) want[c] = 1;
  for (let r = 0; r < categoryOf.length; r++) {
    const c = categoryOf[r]!;
    if (c >= 0 && c < want.length && want[c] && bias[r] !== -Infinity) bias[r]! += NARROW_BONUS;
  }
  return bias;
}
