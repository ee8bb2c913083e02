/**
 * When a face is too poor to vouch for who it is. Such faces are kept (they are still found
 * by search and listed under their person) but they never start a bridge between two persons:
 * they join a person only when very close, and the merge pass ignores them.
 *
 * Figures: the face's smaller side in pixels, the Laplacian variance of the aligned face, and
 * the detector's score. The limits were read off the LFW development images: aligned faces
 * there are ~100 px with sharpness mostly above 100 (see docs/people.md).
 */
export const LOW_QUALITY = { minSize: 24, minSharpness: 20, minScore: 0.7 } as const;

export function isLowQuality(f: { size: number; sharpness: number; score: number }): boolean {
  return f.size < LOW_QUALITY.minSize || f.sharpness < LOW_QUALITY.minSharpness || f.score < LOW_QUALITY.minScore;
}
