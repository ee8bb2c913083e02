import { loadOpenCv, type CvMat } from './opencv.js';
import type { LocalFeatures } from './local-features.js';

/** What the geometric check of two images found. */
export interface PairCheck {
  /** Matches consistent with one homography (RANSAC inliers). */
  inliers: number;
  /** Matches that passed the ratio test, before geometry. */
  matches: number;
  /** The homography (row-major 3×3) taking the first image's points to the second's, when one was fitted. */
  homography?: number[];
}

export interface CheckOptions {
  /** Compare only this many of each image's strongest keypoints (a cheaper, coarser check). */
  keypoints?: number;
  /** Fewer ratio-test matches than this cannot make a verdict that matters: no homography is fitted (inliers 0). */
  minMatches?: number;
}

// Lowe's ratio test: a match counts only when clearly better than the second-best candidate.
const RATIO = 0.8;
// Reprojection error (pixels at FEATURE_SIDE) under which a match agrees with the homography.
const RANSAC_PX = 5;

/** Set bits of a 32-bit word. */
function popcount(x: number): number {
  x -= (x >>> 1) & 0x55555555;
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  return (((x + (x >>> 4)) & 0x0f0f0f0f) * 0x01010101) >>> 24;
}

/**
 * Ratio-test matches of a's first `na` descriptors among b's first `nb` (Hamming distance over
 * 256 bits). Plain JavaScript over 32-bit words: as fast as OpenCV's WebAssembly matcher, without
 * the cost of reading its result back one match at a time.
 */
function ratioMatches(a: LocalFeatures, na: number, b: LocalFeatures, nb: number): { src: number[]; dst: number[] } {
  const A = new Uint32Array(a.descriptors.buffer, a.descriptors.byteOffset, na * 8);
  const B = new Uint32Array(b.descriptors.buffer, b.descriptors.byteOffset, nb * 8);
  const src: number[] = [];
  const dst: number[] = [];
  for (let q = 0; q < na; q++) {
    const o = q * 8;
    const a0 = A[o]!, a1 = A[o + 1]!, a2 = A[o + 2]!, a3 = A[o + 3]!, a4 = A[o + 4]!, a5 = A[o + 5]!, a6 = A[o + 6]!, a7 = A[o + 7]!; // prettier-ignore
    let d1 = 1e9;
    let d2 = 1e9;
    let best = -1;
    for (let r = 0; r < nb; r++) {
      const p = r * 8;
      const d =
        popcount(a0 ^ B[p]!) + popcount(a1 ^ B[p + 1]!) + popcount(a2 ^ B[p + 2]!) + popcount(a3 ^ B[p + 3]!) +
        popcount(a4 ^ B[p + 4]!) + popcount(a5 ^ B[p + 5]!) + popcount(a6 ^ B[p + 6]!) + popcount(a7 ^ B[p + 7]!); // prettier-ignore
      if (d < d1) {
        d2 = d1;
        d1 = d;
        best = r;
      } else if (d < d2) d2 = d;
    }
    if (best >= 0 && d2 < 1e9 && d1 < RATIO * d2) {
      src.push(a.points[2 * q]!, a.points[2 * q + 1]!);
      dst.push(b.points[2 * best]!, b.points[2 * best + 1]!);
    }
  }
  return { src, dst };
}

/**
 * Matches two images' ORB descriptors (Hamming, ratio test) and counts the matches one
 * homography explains (RANSAC): a resized, re-encoded, cropped, slightly rotated or recoloured
 * copy keeps many such matches, while a different photo of a similar scene does not.
 */
export async function checkPair(a: LocalFeatures, b: LocalFeatures, opts: CheckOptions = {}): Promise<PairCheck> {
  const na = Math.min(a.count, opts.keypoints ?? a.count);
  const nb = Math.min(b.count, opts.keypoints ?? b.count);
  if (na < 2 || nb < 2) return { inliers: 0, matches: 0 };
  const { src, dst } = ratioMatches(a, na, b, nb);
  const matches = src.length / 2;
  if (matches < Math.max(4, opts.minMatches ?? 0)) return { inliers: 0, matches };
  const cv = await loadOpenCv();
  const ms = cv.matFromArray(matches, 1, cv.CV_32FC2, src);
  const md = cv.matFromArray(matches, 1, cv.CV_32FC2, dst);
  const mask = new cv.Mat();
  let h: CvMat | null = null;
  try {
    h = cv.findHomography(ms, md, cv.RANSAC, RANSAC_PX, mask);
    if (h.empty()) return { inliers: 0, matches };
    let inliers = 0;
    for (let i = 0; i < mask.rows; i++) inliers += mask.data[i] ? 1 : 0;
    return { inliers, matches, homography: Array.from(h.data64F.subarray(0, 9)) };
  } finally {
    h?.delete();
    ms.delete();
    md.delete();
    mask.delete();
  }
}
