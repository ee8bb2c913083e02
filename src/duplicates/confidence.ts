/** How sure the precise check is that two images are copies of one picture. */
export interface PairScore {
  confidence: number;
  inliers: number;
  /** Share of the overlap's textured cells that agree once the two are aligned; absent when too few inliers made it moot. */
  agreement?: number;
  /** The copy is a mirror image of the other. */
  mirrored: boolean;
  /** Cosine of the two images' global features. */
  similarity: number;
}

// Measured on Flickr8k photos (lab: `npm run eval -- duplicates`): different photos, even of
// similar scenes, rarely share more than ~12 matches under one homography; edited copies keep
// dozens to hundreds. The logistic is centred between the two.
const CENTRE = 14;
const SPREAD = 2.5;
// Agreement of aligned copies vs second shots of one scene (burst photos), on the dev split
// (see docs/duplicates.md): the logistic is centred on the gate chosen there.
export const AGREEMENT_GATE = 0.8;
const AGREEMENT_SPREAD = 0.02;

/** Confidence (0–1) from the geometric inliers alone. */
export function inlierConfidence(inliers: number): number {
  return 1 / (1 + Math.exp(-(inliers - CENTRE) / SPREAD));
}

/**
 * Confidence (0–1) of a pair: both tests must pass — enough matches under one homography, and
 * the aligned pictures agreeing over their overlap — so the weaker of the two decides.
 */
export function pairConfidence(p: { inliers: number; agreement?: number; similarity: number; mirrored: boolean }): PairScore {
  const agreeing = p.agreement === undefined ? 1 : 1 / (1 + Math.exp(-(p.agreement - AGREEMENT_GATE) / AGREEMENT_SPREAD));
  const confidence = Math.min(inlierConfidence(p.inliers), agreeing);
  return { confidence, inliers: p.inliers, ...(p.agreement === undefined ? {} : { agreement: p.agreement }), mirrored: p.mirrored, similarity: p.similarity };
}
