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

/** Indices of the `m` highest scores above `floor`, best first. */
export function topIndices(scores: Float32Array, m: number, floor = -Infinity, mask?: Uint8Array): Uint32Array {
  const n = scores.length;
  let candidates: number[] = [];
  if (m < n / 4) {
    // Threshold at the m-th best value first: sorting a copy of the floats is native and fast.
    const sorted = Float32Array.from(scores).sort();
    const threshold = Math.max(floor, sorted[Math.max(0, n - m)]!);
    for (let i = 0; i < n; i++) if (scores[i]! >= threshold && scores[i]! > floor && (!mask || mask[i])) candidates.push(i);
  } else {
    for (let i = 0; i < n; i++) if (scores[i]! > floor && (!mask || mask[i])) candidates.push(i);
  }
  candidates.sort((a, b) => scores[b]! - scores[a]! || a - b);
  if (candidates.length > m) candidates = candidates.slice(0, m);
  return Uint32Array.from(candidates);
}

function standardise(s: Float32Array): Float32Array {
  let mean = 0;
  for (const x of s) mean += x;
  mean /= s.length || 1;
  let v = 0;
  for (const x of s) v += (x - mean) ** 2;
  const sd = Math.sqrt(v / (s.length || 1)) || 1;
  return s.map((x) => (x - mean) / sd);
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
      order.forEach((row, i) => {
        const prev = i > 0 ? s.scores[order[i - 1]!]! : NaN;
        if (!(Math.abs(s.scores[row]! - prev) <= 1e-6 * Math.abs(prev))) rank = i;
        fused[row]! += (s.polarity * s.weight) / (RRF_K + rank + 1);
        if (s.polarity > 0) evidence[row] = 1;
      });
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
