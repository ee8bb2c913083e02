import sharp from 'sharp';
import { VisorError } from '../errors.js';
import { describeDecodeFailure } from '../image/decode.js';
import { DEFAULT_MAX_PIXELS } from '../image/limits.js';
import { loadOpenCv } from './opencv.js';

/**
 * ORB keypoints of one image (or of its mirror image), as plain arrays so they can be cached and
 * compared later; strongest first, so that a prefix is a cheaper set of the most repeatable ones.
 */
export interface LocalFeatures {
  count: number;
  /** x, y of each keypoint, in the pixels of the normalised image. */
  points: Float32Array;
  /** 32 bytes (256 bits) per keypoint. */
  descriptors: Uint8Array;
}

/** Every image is compared at this long side: copies at other sizes then differ by little scale. */
export const FEATURE_SIDE = 320;
// Enough of the picture's own keypoints survive when overlaid text or a logo (strong corners) takes many; matching cost grows with the square.
const MAX_KEYPOINTS = 600;

/** One channel of 8-bit pixels, row by row. */
export interface GreyImage {
  data: Uint8Array;
  width: number;
  height: number;
}

/** Greyscale pixels at FEATURE_SIDE on the long side (EXIF-rotated), and their mirror image when asked. */
export async function greyPixels(bytes: Buffer, mirror = false): Promise<GreyImage> {
  try {
    let img = sharp(bytes, { limitInputPixels: DEFAULT_MAX_PIXELS, failOn: 'truncated', autoOrient: true })
      .greyscale()
      .resize(FEATURE_SIDE, FEATURE_SIDE, { fit: 'inside' });
    if (mirror) img = img.flop();
    const { data, info } = await img.raw().toBuffer({ resolveWithObject: true });
    return { data, width: info.width, height: info.height };
  } catch (e) {
    throw new VisorError('IMAGE_INVALID', describeDecodeFailure(e), { cause: e });
  }
}

/** The image's ORB features; `mirror` computes them on its left–right mirror image (to recognise flipped copies). */
export async function localFeatures(bytes: Buffer, mirror = false): Promise<LocalFeatures> {
  const [cv, px] = await Promise.all([loadOpenCv(), greyPixels(bytes, mirror)]);
  const img = cv.matFromArray(px.height, px.width, cv.CV_8UC1, px.data);
  const mask = new cv.Mat();
  const kp = new cv.KeyPointVector();
  const desc = new cv.Mat();
  const orb = new cv.ORB(MAX_KEYPOINTS);
  try {
    orb.detectAndCompute(img, mask, kp, desc);
    const count = kp.size();
    const found = Array.from({ length: count }, (_, i) => kp.get(i));
    const order = found.map((_, i) => i).sort((x, y) => found[y]!.response - found[x]!.response);
    const points = new Float32Array(count * 2);
    const descriptors = new Uint8Array(count * 32);
    const raw = desc.data;
    order.forEach((from, to) => {
      points[2 * to] = found[from]!.pt.x;
      points[2 * to + 1] = found[from]!.pt.y;
      descriptors.set(raw.subarray(from * 32, from * 32 + 32), to * 32);
    });
    return { count, points, descriptors };
  } finally {
    orb.delete();
    img.delete();
    mask.delete();
    kp.delete();
    desc.delete();
  }
}
