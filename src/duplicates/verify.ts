import { loadOpenCv } from './opencv.js';
import type { LocalFeatures } from './local-features.js';

/** What the geometric check of two images found. */
export interface PairCheck {
  /** Matches consistent with one homography (RANSAC inliers). */
  inliers: number;
  /** Matches that passed the ratio test, before geometry. */
  matches: number;
}

// Lowe's ratio test: a match counts only when clearly better than the second-best candidate.
const RATIO = 0.8;
// Reprojection error (pixels at FEATURE_SIDE) under which a match agrees with the homography.
const RANSAC_PX = 5;

/**
 * Matches two images' ORB descriptors (Hamming, ratio test) and counts the matches one
 * homography explains (RANSAC): a resized, re-encoded, cropped, slightly rotated or recoloured
 * copy keeps many such matches, while a different photo of a similar scene does not.
 */
export async function checkPair(a: LocalFeatures, b: LocalFeatures): Promise<PairCheck> {
  if (a.count < 2 || b.count < 2) return { inliers: 0, matches: 0 };
  const cv = await loadOpenCv();
  const da = cv.matFromArray(a.count, 32, cv.CV_8UC1, a.descriptors);
  const db = cv.matFromArray(b.count, 32, cv.CV_8UC1, b.descriptors);
  const matcher = new cv.BFMatcher(cv.NORM_HAMMING, false);
  const knn = new cv.DMatchVectorVector();
  try {
    matcher.knnMatch(da, db, knn, 2);
    const src: number[] = [];
    const dst: number[] = [];
    for (let i = 0; i < knn.size(); i++) {
      const m = knn.get(i);
      if (m.size() < 2) continue;
      const best = m.get(0);
      if (best.distance < RATIO * m.get(1).distance) {
        src.push(a.points[2 * best.queryIdx]!, a.points[2 * best.queryIdx + 1]!);
        dst.push(b.points[2 * best.trainIdx]!, b.points[2 * best.trainIdx + 1]!);
      }
    }
    const matches = src.length / 2;
    if (matches < 4) return { inliers: 0, matches };
    const ms = cv.matFromArray(matches, 1, cv.CV_32FC2, src);
    const md = cv.matFromArray(matches, 1, cv.CV_32FC2, dst);
    const mask = new cv.Mat();
    let h: { empty(): boolean; delete(): void } | null = null;
    try {
      h = cv.findHomography(ms, md, cv.RANSAC, RANSAC_PX, mask);
      if (h.empty()) return { inliers: 0, matches };
      let inliers = 0;
      for (let i = 0; i < mask.rows; i++) inliers += mask.data[i] ? 1 : 0;
      return { inliers, matches };
    } finally {
      h?.delete();
      ms.delete();
      md.delete();
      mask.delete();
    }
  } finally {
    knn.delete();
    matcher.delete();
    da.delete();
    db.delete();
  }
}
