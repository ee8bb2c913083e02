import { medianRank, mean } from './metrics.js';

/**
 * Cross-modal retrieval figures (Flickr protocol): Recall@K counts a query as a hit when any
 * relevant item is in the top K; ranks are 1-based ranks of the first relevant item.
 */
export interface CrossModalMetrics {
  queries: number;
  /** Recall@1/5/10 in % (as papers report them). */
  r1: number;
  r5: number;
  r10: number;
  medianRank: number;
  meanRank: number;
}

export function summarizeRanks(ranks: ArrayLike<number>): CrossModalMetrics {
  const n = ranks.length;
  const at = (k: number) => {
    let hits = 0;
    for (let i = 0; i < n; i++) if (ranks[i]! <= k) hits++;
    return (100 * hits) / n;
  };
  return { queries: n, r1: at(1), r5: at(5), r10: at(10), medianRank: medianRank(ranks), meanRank: mean(ranks) };
}

/**
 * First-relevant ranks from a full score matrix (queries × gallery, row-major): the rank of
 * the best-scored relevant item is 1 + the number of gallery items scored strictly higher.
 */
export function firstRelevantRanks(scores: Float32Array, queries: number, gallery: number, relevant: (q: number) => readonly number[]): Float64Array {
  const ranks = new Float64Array(queries);
  for (let q = 0; q < queries; q++) {
    const row = scores.subarray(q * gallery, (q + 1) * gallery);
    let best = -Infinity;
    for (const g of relevant(q)) best = Math.max(best, row[g]!);
    let higher = 0;
    for (let g = 0; g < gallery; g++) if (row[g]! > best) higher++;
    ranks[q] = higher + 1;
  }
  return ranks;
}

export interface CrossModalReport {
  textToImage: CrossModalMetrics;
  imageToText: CrossModalMetrics;
  /** Sum of the six recalls: the usual model-selection figure. */
  rsum: number;
}

/**
 * Both directions from caption vectors (imageOf[c] = the image of caption c) and image
 * vectors, given a scoring function returning captions × images similarities.
 */
export function crossModalReport(scores: Float32Array, captionImage: Int32Array, images: number): CrossModalReport {
  const nc = captionImage.length;
  const t2i = firstRelevantRanks(scores, nc, images, (c) => [captionImage[c]!]);
  const captionsOf: number[][] = Array.from({ length: images }, () => []);
  captionImage.forEach((im, c) => captionsOf[im]!.push(c));
  // Image → text reads the same matrix by columns: transpose once.
  const tr = new Float32Array(images * nc);
  for (let c = 0; c < nc; c++) for (let i = 0; i < images; i++) tr[i * nc + c] = scores[c * images + i]!;
  const i2t = firstRelevantRanks(tr, images, nc, (i) => captionsOf[i]!);
  const a = summarizeRanks(t2i);
  const b = summarizeRanks(i2t);
  return { textToImage: a, imageToText: b, rsum: a.r1 + a.r5 + a.r10 + b.r1 + b.r5 + b.r10 };
}
