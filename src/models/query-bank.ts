/**
 * Querybank normalisation (Bogolin et al., "Cross Modal Retrieval with Querybank Normalisation",
 * CVPR 2022): some gallery items are "hubs", close to almost any query, and crowd the top of
 * every ranking. An inverted softmax over a bank of typical queries (a sample of the training
 * captions for images, of the training images for captions) measures how hub-like each item is,
 * and its score is lowered by that much:
 *
 *   score(q, g) = cos(q, g) − (1/β) · log Σ_b exp(β · cos(b, g))
 *
 * The second term depends on the gallery item only, so it is a per-item bias computed once when
 * the gallery is projected; ranking a query costs nothing more. β is chosen on the dev split
 * (0 turns it off).
 */

/** A bank of query vectors (rows × dimension, unit rows) and the temperature chosen for it. */
export interface QueryBank {
  vectors: Float32Array;
  rows: number;
  beta: number;
}

/** Gallery items scored against the bank at a time: keeps the bank × chunk matrix small. */
const CHUNK = 2048;

/**
 * The per-item bias −(1/β)·logsumexp(β·bank·g) for `n` gallery vectors, given a scorer that
 * returns the bank × chunk cosine matrix (row-major). All zeros when there is no bank.
 */
export function hubnessBias(
  bank: QueryBank | null,
  gallery: Float32Array,
  n: number,
  dimension: number,
  cosines: (bank: Float32Array, items: Float32Array) => Float32Array,
): Float32Array {
  const bias = new Float32Array(n);
  if (!bank || bank.beta <= 0 || bank.rows === 0 || n === 0) return bias;
  const { beta, rows } = bank;
  for (let start = 0; start < n; start += CHUNK) {
    const m = Math.min(CHUNK, n - start);
    const s = cosines(bank.vectors, gallery.subarray(start * dimension, (start + m) * dimension));
    for (let j = 0; j < m; j++) {
      let max = -Infinity;
      for (let b = 0; b < rows; b++) max = Math.max(max, s[b * m + j]!);
      let sum = 0;
      for (let b = 0; b < rows; b++) sum += Math.exp(beta * (s[b * m + j]! - max));
      bias[start + j] = -(max + Math.log(sum) / beta);
    }
  }
  return bias;
}

/** `k` rows spread evenly over `n` (a deterministic sample of a training set). */
export function evenSample(n: number, k: number): number[] {
  if (k >= n) return Array.from({ length: n }, (_, i) => i);
  return Array.from({ length: k }, (_, i) => Math.floor((i * n) / k));
}
