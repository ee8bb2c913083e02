import { maskIoU } from '../localize/mask.js';

/**
 * Re-ranking by silhouette: the top candidates are re-scored by a blend of feature similarity
 * and the IoU of their box-aligned silhouettes with the query's,
 *
 *   score = (1 − weight) · cosine + weight · IoU,
 *
 * and re-sorted. Only the top `depth` move; candidates without a silhouette (not localised, or
 * no object found) keep IoU 0 when the query has an object, so they sink among the head — a
 * shape that cannot be compared is not evidence of a match.
 */
export interface RerankOptions {
  /** Candidates re-scored (default 100). */
  depth?: number;
  /** Share of the score given to silhouette IoU (default 0.1, the best measured by `visor-lab eval objects`). */
  weight?: number;
}

export const DEFAULT_RERANK: Required<RerankOptions> = { depth: 100, weight: 0.1 };

export interface Candidate {
  row: number;
  /** Ranking score from the search (may include a narrowing bonus). */
  score: number;
  /** Cosine similarity of features. */
  cosine: number;
  iou?: number;
}

/**
 * Re-ranks `candidates` (best first) in place within groups of equal bonus: narrowing tiers
 * stay in order, silhouettes only reorder items within a tier.
 */
export function rerankBySilhouette(
  candidates: Candidate[],
  queryMask: Uint8Array,
  masks: Uint8Array,
  maskBytes: number,
  hasMask: Uint8Array,
  opts: RerankOptions = {},
): Candidate[] {
  const { depth, weight } = { ...DEFAULT_RERANK, ...opts };
  const head = candidates.slice(0, depth);
  for (const c of head) {
    c.iou = hasMask[c.row] ? maskIoU(queryMask, masks.subarray(c.row * maskBytes, (c.row + 1) * maskBytes)) : 0;
    const tier = c.score - c.cosine;
    c.score = tier + (1 - weight) * c.cosine + weight * c.iou;
  }
  head.sort((a, b) => b.score - a.score);
  candidates.splice(0, head.length, ...head);
  return candidates;
}
