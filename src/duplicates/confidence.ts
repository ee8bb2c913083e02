/** How sure the precise check is that two images are copies of one picture. */
export interface PairScore {
  confidence: number;
  inliers: number;
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

/** Confidence (0–1) from the geometric inliers of a pair. */
export function pairConfidence(p: { inliers: number; similarity: number; mirrored: boolean }): PairScore {
  const confidence = 1 / (1 + Math.exp(-(p.inliers - CENTRE) / SPREAD));
  return { confidence, inliers: p.inliers, mirrored: p.mirrored, similarity: p.similarity };
}
