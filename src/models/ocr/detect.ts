/**
 * PaddleOCR's DB text detector (PP-OCRv4 det): the image is resized to multiples of 32,
 * normalised, and the network returns a per-pixel text probability. Pixels above a threshold
 * form regions; each region's minimum-area rectangle is scored by the mean probability inside
 * it and grown ("unclipped") back to the whole text, since DB is trained on shrunken boxes.
 */
import type * as ort from 'onnxruntime-node';
import { meanInRect, minAreaRect, orientRect, rectCorners, regionOutlines, sampleRect, type RotatedRect } from './geometry.js';

export interface DetectOptions {
  /** Longest side the image is shrunk to (default 960). */
  maxSide: number;
  /**
   * Smaller images are enlarged until their longest side reaches this (default 640): the
   * detector misses text a dozen pixels high in a small photo, and finds it enlarged.
   */
  minSide: number;
  /** Pixel probability that counts as text (default 0.3). */
  threshold: number;
  /** Mean probability a box needs to be kept (default 0.6). */
  boxThreshold: number;
  /** How far a box grows: area × ratio / perimeter on every side (default 2: PaddleOCR uses 1.5, which cut the first or last letter off large words on the benchmark). */
  unclipRatio: number;
  /** Regions considered at most (default 1000). */
  maxCandidates: number;
}

export const DETECT_DEFAULTS: DetectOptions = { maxSide: 960, minSide: 640, threshold: 0.3, boxThreshold: 0.6, unclipRatio: 2, maxCandidates: 1000 };

export interface TextBox {
  /** The text's rotated rectangle in the input image's continuous coordinates (pixel centres at +0.5). */
  rect: RotatedRect;
  /** Detector confidence: mean text probability inside the box. */
  score: number;
}

// ImageNet statistics, applied to B, G, R in that order as PaddleOCR's OpenCV pipeline does.
const MEAN = [0.485, 0.456, 0.406];
const STD = [0.229, 0.224, 0.225];
const BGR = [2, 1, 0] as const;

/** The detector's input size for an image: scaled into [minSide, maxSide], both sides multiples of 32. */
export function detectSize(width: number, height: number, o: Pick<DetectOptions, 'maxSide' | 'minSide'>): { width: number; height: number } {
  const long = Math.max(width, height);
  const scale = long > o.maxSide ? o.maxSide / long : long < o.minSide ? o.minSide / long : 1;
  const to32 = (v: number) => Math.max(32, Math.round((v * scale) / 32) * 32);
  return { width: to32(width), height: to32(height) };
}

export async function detectText(
  session: ort.InferenceSession,
  Tensor: typeof ort.Tensor,
  rgb: Uint8Array,
  width: number,
  height: number,
  o: DetectOptions,
): Promise<TextBox[]> {
  const size = detectSize(width, height, o);
  const plane = size.width * size.height;
  const input = new Float32Array(3 * plane);
  const whole: RotatedRect = { cx: width / 2, cy: height / 2, ux: 1, uy: 0, width, height };
  sampleRect(rgb, width, height, whole, size.width, size.height, input, 0, size.width, plane, BGR, (v, c) => (v / 255 - MEAN[c]!) / STD[c]!);
  const result = await session.run({ [session.inputNames[0]!]: new Tensor('float32', input, [1, 3, size.height, size.width]) });
  const prob = result[session.outputNames[0]!]!.data as Float32Array;
  return boxesFromMap(prob, size.width, size.height, width / size.width, height / size.height, o);
}

/** Probability map → scored, unclipped rectangles in the original image's coordinates (scaled by sx, sy). */
export function boxesFromMap(prob: Float32Array, w: number, h: number, sx: number, sy: number, o: DetectOptions): TextBox[] {
  const mask = new Uint8Array(prob.length);
  for (let i = 0; i < prob.length; i++) mask[i] = prob[i]! > o.threshold ? 1 : 0;
  const boxes: TextBox[] = [];
  for (const outline of regionOutlines(mask, w, h, o.maxCandidates)) {
    const rect = minAreaRect(outline);
    if (Math.min(rect.width, rect.height) < 3) continue;
    const score = meanInRect(prob, w, h, rect);
    if (score < o.boxThreshold) continue;
    // Unclip: Clipper's offset of a rectangle by d, whose bounding rectangle grows by d on each side.
    const d = (rect.width * rect.height * o.unclipRatio) / (2 * (rect.width + rect.height));
    const grown = { ...rect, width: rect.width + 2 * d, height: rect.height + 2 * d };
    if (Math.min(grown.width, grown.height) < 5) continue;
    // To the original image: map pixel centres (+0.5) and rebuild the rectangle, since the
    // two axes may scale slightly differently.
    const corners = rectCorners({ ...grown, cx: grown.cx + 0.5, cy: grown.cy + 0.5 }).map((p) => ({ x: p.x * sx, y: p.y * sy }));
    boxes.push({ rect: orientRect(rectFromCorners(corners)), score });
  }
  return boxes;
}

/** The rectangle through four corners given in order (tl, tr, br, bl), after an axis scaling that may have skewed it a little. */
function rectFromCorners(c: { x: number; y: number }[]): RotatedRect {
  const [tl, tr, br, bl] = c as [{ x: number; y: number }, { x: number; y: number }, { x: number; y: number }, { x: number; y: number }];
  const ex = (tr.x - tl.x + br.x - bl.x) / 2;
  const ey = (tr.y - tl.y + br.y - bl.y) / 2;
  const width = Math.hypot(ex, ey);
  const ux = width ? ex / width : 1;
  const uy = width ? ey / width : 0;
  const fx = (bl.x - tl.x + br.x - tr.x) / 2;
  const fy = (bl.y - tl.y + br.y - tr.y) / 2;
  const height = Math.abs(-fx * uy + fy * ux);
  return { cx: (tl.x + tr.x + br.x + bl.x) / 4, cy: (tl.y + tr.y + br.y + bl.y) / 4, ux, uy, width, height };
}
