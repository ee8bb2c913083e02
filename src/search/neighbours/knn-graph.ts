/**
 * The k-nearest-neighbour graph of a collection in one embedding space: for each item, its `k`
 * most similar other items (cosine), best first. What the re-ranking stages read: the
 * neighbours of the query's first hits (diffusion) and of each stored item (database-side
 * augmentation). Plain arrays, row i belonging to ids[i]; a row with fewer than k neighbours
 * (a collection of k items or fewer) is padded with −1.
 */
export interface KnnGraph {
  readonly ids: readonly string[];
  readonly k: number;
  /** n × k neighbour rows (into ids), best first; −1 pads. */
  readonly rows: Int32Array;
  /** n × k cosines, aligned with rows. */
  readonly sims: Float32Array;
}

/** Neighbours kept per item: enough for diffusion's mutual neighbourhoods, small enough to store at 1M items (~400 MB). */
export const GRAPH_K = 50;

/** Top `k` rows for each of `count` query vectors (count × dim), best first: the exact kernel or the ANN index. */
export type NearestRows = (queries: Float32Array, count: number, k: number) => Promise<{ rows: Int32Array; scores: Float32Array; k: number }>;

/**
 * Builds the graph of `n` vectors (rows of `matrix`) from a nearest-row search over the same
 * matrix, in blocks (each block's answers hold the item itself, which is dropped).
 */
export async function buildGraph(
  ids: readonly string[],
  matrix: Float32Array,
  k: number,
  nearest: NearestRows,
  onProgress?: (done: number, total: number) => void,
): Promise<KnnGraph> {
  const n = ids.length;
  const dim = n ? matrix.length / n : 0;
  const rows = new Int32Array(n * k).fill(-1);
  const sims = new Float32Array(n * k);
  const block = 512;
  for (let start = 0; start < n; start += block) {
    const m = Math.min(block, n - start);
    const hits = await nearest(matrix.subarray(start * dim, (start + m) * dim), m, k + 1);
    for (let q = 0; q < m; q++) fillRow(start + q, hits, q, rows, sims, k);
    onProgress?.(start + m, n);
  }
  return { ids, k, rows, sims };
}

/** Row `self`'s neighbours from one query's answer (its own row left out), into the graph arrays. */
export function fillRow(
  self: number,
  hits: { rows: Int32Array; scores: Float32Array; k: number },
  q: number,
  rows: Int32Array,
  sims: Float32Array,
  k: number,
): void {
  let j = 0;
  for (let h = 0; h < hits.k && j < k; h++) {
    const r = hits.rows[q * hits.k + h]!;
    if (r === self || r < 0) continue;
    rows[self * k + j] = r;
    sims[self * k + j] = hits.scores[q * hits.k + h]!;
    j++;
  }
  for (; j < k; j++) {
    rows[self * k + j] = -1;
    sims[self * k + j] = 0;
  }
}

/**
 * Offers `row` as a neighbour of `of` with cosine `sim`: it enters the list when better than the
 * last kept one (equal cosines keep the earlier row first, as the exact search orders ties).
 * Returns whether the list changed.
 */
export function offerNeighbour(rows: Int32Array, sims: Float32Array, k: number, of: number, row: number, sim: number): boolean {
  const base = of * k;
  for (let j = 0; j < k; j++) if (rows[base + j] === row) return false;
  let pos = k;
  for (let j = 0; j < k; j++) {
    const r = rows[base + j]!;
    if (r < 0 || sim > sims[base + j]! || (sim === sims[base + j]! && row < r)) {
      pos = j;
      break;
    }
  }
  if (pos === k) return false;
  for (let j = k - 1; j > pos; j--) {
    rows[base + j] = rows[base + j - 1]!;
    sims[base + j] = sims[base + j - 1]!;
  }
  rows[base + pos] = row;
  sims[base + pos] = sim;
  return true;
}
