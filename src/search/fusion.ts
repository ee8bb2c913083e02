/**
 * Combining signals that score items on unrelated scales (cosines, BM25, probabilities).
 * Reciprocal-rank fusion (Cormack et al., SIGIR 2009) uses only each signal's ranking, so no
 * signal dominates by its units; "score" fusion standardises each signal (z-score over the
 * collection) and adds them, keeping how far ahead an item is.
 */
export type FusionMethod = 'rrf' | 'score';

export interface SignalScores {
  /** Per item, aligned with the collection's id order. */
  scores: Float32Array;
  weight: number;
  /** +1 pulls items up, -1 pushes them down (negative terms). */
  polarity: 1 | -1;
  /** Items scoring at or below this have no evidence from the signal (e.g. BM25 0). */
  floor?: number;
  /** Only the best `depth` items of a signal contribute (RRF); default 1000. */
  depth?: number;
}

export const RRF_K = 60;

/** Indices of the `m` highest scores above `floor`, best first (ties: lower index first). */
export function topIndices(scores: Float32Array, m: number, floor = -Infinity, mask?: Uint8Array): Uint32Array {
  const n = scores.length;
  if (m <= 0) return new Uint32Array(0);
  // Many wanted (a signal's RRF depth): the radix sort of the admitted rows beats a heap and
  // a comparator sort of its m rows; both give the same order.
  if (m >= n / 4 || m >= 256) return sortedAbove(scores, m, floor, mask);
  // Few wanted of many: one pass keeping the m best admitted rows in a heap whose root is the
  // worst of them, with no copy or sort of all n scores (a server runs this for every query).
  const heap = new Uint32Array(m);
  let size = 0;
  // a ranks below b: a lower score, or the same score and a later row.
  const below = (a: number, b: number) => scores[a]! < scores[b]! || (scores[a] === scores[b] && a > b);
  const siftDown = (at: number) => {
    for (;;) {
      const l = 2 * at + 1;
      if (l >= size) return;
      const r = l + 1;
      const c = r < size && below(heap[r]!, heap[l]!) ? r : l;
      if (!below(heap[c]!, heap[at]!)) return;
      [heap[c], heap[at]] = [heap[at]!, heap[c]!];
      at = c;
    }
  };
  for (let i = 0; i < n; i++) {
    if (!(scores[i]! > floor) || (mask && !mask[i])) continue;
    if (size < m) {
      let at = size++;
      heap[at] = i;
      while (at > 0) {
        const parent = (at - 1) >> 1;
        if (!below(heap[at]!, heap[parent]!)) break;
        [heap[parent], heap[at]] = [heap[at]!, heap[parent]!];
        at = parent;
      }
    } else if (below(heap[0]!, i)) {
      heap[0] = i;
      siftDown(0);
    }
  }
  return heap.slice(0, size).sort((a, b) => scores[b]! - scores[a]! || a - b);
}

let scratch = new Uint32Array(0);
const buckets = new Uint32Array(2048);

/**
 * The m best admitted rows in the order of a sort by (score descending, row ascending), by a
 * stable radix sort on 32-bit keys: several times faster than a comparator sort over 10,000
 * rows (fusing a signal that ranks every item runs this on every search). A row's key is its
 * score's bit pattern made monotonic (negatives inverted) and reversed, so better sorts first;
 * rows enter in index order, so the stable sort leaves ties in row order.
 */
function sortedAbove(scores: Float32Array, m: number, floor: number, mask?: Uint8Array): Uint32Array {
  const n = scores.length;
  const bits = new Uint32Array(1);
  const f = new Float32Array(bits.buffer);
  // Working arrays are kept between calls (this runs to completion, one call at a time per
  // thread): a search sorts several 10,000-row signals, and fresh arrays each time are garbage.
  if (scratch.length < 4 * n) scratch = new Uint32Array(4 * n);
  let keys = scratch.subarray(0, n);
  let rows = scratch.subarray(n, 2 * n);
  let count = 0;
  for (let i = 0; i < n; i++) {
    const s = scores[i]!;
    if (!(s > floor) || (mask && !mask[i])) continue;
    f[0] = s === 0 ? 0 : s; // -0 and +0 tie, as their difference does
    const b = bits[0]!;
    const ascending = b & 0x80000000 ? ~b >>> 0 : (b | 0x80000000) >>> 0;
    keys[count] = ~ascending >>> 0;
    rows[count++] = i;
  }
  let keys2 = scratch.subarray(2 * n, 2 * n + count);
  let rows2 = scratch.subarray(3 * n, 3 * n + count);
  const bucket = buckets;
  for (let shift = 0; shift < 32; shift += 11) {
    bucket.fill(0);
    for (let j = 0; j < count; j++) bucket[(keys[j]! >>> shift) & 2047]!++;
    for (let d = 0, sum = 0; d < 2048; d++) {
      const c = bucket[d]!;
      bucket[d] = sum;
      sum += c;
    }
    for (let j = 0; j < count; j++) {
      const at = bucket[(keys[j]! >>> shift) & 2047]!++;
      keys2[at] = keys[j]!;
      rows2[at] = rows[j]!;
    }
    [keys, keys2] = [keys2, keys];
    [rows, rows2] = [rows2, rows];
  }
  return rows.slice(0, Math.min(m, count));
}

/** z-scores over all items (a constant signal stays centred at 0). */
export function standardise(s: Float32Array, into: Float32Array = new Float32Array(s.length)): Float32Array {
  // Indexed loops (a search standardises several 10,000-item signals); `into` may be `s` itself.
  const n = s.length;
  let mean = 0;
  for (let i = 0; i < n; i++) mean += s[i]!;
  mean /= n || 1;
  let v = 0;
  for (let i = 0; i < n; i++) v += (s[i]! - mean) ** 2;
  const sd = Math.sqrt(v / (n || 1)) || 1;
  for (let i = 0; i < n; i++) into[i] = (s[i]! - mean) / sd;
  return into;
}

/** Fused score per item (higher is better); items without any positive evidence get -Infinity. */
export function fuse(signals: readonly SignalScores[], n: number, method: FusionMethod): Float32Array {
  const fused = new Float32Array(n);
  const evidence = new Uint8Array(n);
  for (const s of signals) {
    const floor = s.floor ?? -Infinity;
    if (method === 'rrf') {
      const order = topIndices(s.scores, s.depth ?? 1000, floor);
      // Tied scores share the best rank: ten items with the same title are equally good keyword
      // matches, and their storage order must not decide the fused ranking.
      let rank = 0;
      const scores = s.scores;
      const share = s.polarity * s.weight;
      const positive = s.polarity > 0;
      for (let i = 0; i < order.length; i++) {
        const row = order[i]!;
        const prev = i > 0 ? scores[order[i - 1]!]! : NaN;
        if (!(Math.abs(scores[row]! - prev) <= 1e-6 * Math.abs(prev))) rank = i;
        fused[row]! += share / (RRF_K + rank + 1);
        if (positive) evidence[row] = 1;
      }
    } else {
      const z = standardise(s.scores);
      for (let i = 0; i < n; i++) {
        if (s.scores[i]! <= floor) continue;
        // Negative terms only push down items that resemble them (z above average).
        fused[i]! += s.polarity > 0 ? s.weight * z[i]! : -s.weight * Math.max(0, z[i]!);
        if (s.polarity > 0) evidence[i] = 1;
      }
    }
  }
  for (let i = 0; i < n; i++) if (!evidence[i]) fused[i] = -Infinity;
  return fused;
}
