import sharp from 'sharp';
import { alignedMask, bitmapArea, fillHoles, keepLargestComponents, otsuThreshold, threshold, type Bitmap, type Box, type ObjectMask } from './mask.js';
import type { SaliencyMethod } from './methods.js';
import { activationMap, borderContrast, colourRefine, normalizeRange, resizeBilinear, type Rgb } from './saliency.js';

/**
 * Salient-object localisation from what the image model already computed, plus colour.
 *
 * Methods (measured by `visor-lab eval objects`; the default is the one that measured best):
 * - `activation`: the model's summed last-layer activations, upsampled, Otsu threshold;
 * - `border`: distance from the border's colours (a product on a plain backdrop), Otsu;
 * - `activation+colour`: the activation map as a prior, refined by a colour model;
 * - `border+colour`: the border-contrast map as a prior, refined by a colour model;
 * - `combined+colour`: geometric mean of the activation and border maps as the prior, refined;
 * - `objects`: the object detector's box as the prior, refined (object-box.ts).
 */
export { DEFAULT_LOCALIZE_METHOD, LOCALIZE_METHODS, type LocalizeMethod, type SaliencyMethod } from './methods.js';

/** Side of the square working resolution masks are computed at. */
export const WORK_SIDE = 112;

/** An object covering less than this share of the frame is noise; more, it is the whole image. */
const MIN_AREA = 0.01;
const MAX_AREA = 0.92;

export interface ActivationInput {
  /** channels × height × width activations of one image. */
  data: Float32Array;
  channels: number;
  height: number;
  width: number;
}

export interface Localization {
  /** False when no distinct object was found: the whole image stands for the object. */
  found: boolean;
  /** The object at working resolution, in the squashed square frame of the model input. */
  bitmap: Bitmap;
  /** Box-aligned silhouette for storage and re-ranking. */
  mask: ObjectMask;
}

function wholeFrame(side: number, aspect: number): Localization {
  const bitmap = { width: side, height: side, data: new Uint8Array(side * side).fill(1) };
  return { found: false, bitmap, mask: alignedMask(bitmap, aspect)! };
}

/** The saliency map of one method, in [0, 1], at working resolution. */
export function saliencyMap(method: SaliencyMethod, img: Rgb, acts: ActivationInput): Float32Array {
  const side = img.width;
  const activation = () => normalizeRange(resizeBilinear(activationMap(acts.data, acts.channels, acts.height, acts.width), acts.width, acts.height, side, side));
  switch (method) {
    case 'activation':
      return activation();
    case 'border':
      return normalizeRange(borderContrast(img));
    case 'activation+colour':
      return colourRefine(img, activation());
    case 'border+colour':
      return colourRefine(img, normalizeRange(borderContrast(img)));
    case 'combined+colour': {
      const a = activation();
      const b = normalizeRange(borderContrast(img));
      return colourRefine(
        img,
        a.map((v, i) => Math.sqrt(v * b[i]!)),
      );
    }
  }
}

/**
 * Finds the object in one image. `img` is the model input downsampled to WORK_SIDE (squashed
 * square); `aspect` the source's width / height, so silhouettes keep true proportions.
 */
export function localize(method: SaliencyMethod, img: Rgb, acts: ActivationInput, aspect: number): Localization {
  const map = saliencyMap(method, img, acts);
  // Refined maps are posteriors (0.5 is the natural cut); raw maps get Otsu's threshold.
  const t = method.endsWith('+colour') ? 0.5 : otsuThreshold(map);
  const bitmap = fillHoles(keepLargestComponents(threshold(map, img.width, img.height, t)));
  const share = bitmapArea(bitmap) / (img.width * img.height);
  if (share < MIN_AREA || share > MAX_AREA) return wholeFrame(img.width, aspect);
  return { found: true, bitmap, mask: alignedMask(bitmap, aspect)! };
}

/** The model input downsampled to the working resolution. */
export async function workingCopy(modelInput: Uint8Array, inputSize: number, side = WORK_SIDE): Promise<Rgb> {
  const data = await sharp(modelInput, { raw: { width: inputSize, height: inputSize, channels: 3 } })
    .resize(side, side, { fit: 'fill' })
    .raw()
    .toBuffer();
  return { width: side, height: side, data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) };
}

// ImageNet's mean colour: what the model sees as "nothing in particular".
const NEUTRAL = [124, 116, 104] as const;

export interface CropOptions {
  /** Margin around the box, as a share of its longer side (default 0.08). */
  margin?: number;
  /** Paint the background inside the crop neutral grey (default true); false keeps a tight crop. */
  blankBackground?: boolean;
}

/**
 * The object alone, ready for the model: the source cropped to the object's box (plus a
 * margin), background painted neutral grey, letterboxed onto a grey square of `size` so the
 * object keeps its proportions. `source` is the decoded image at any resolution; `bitmap` the
 * mask in the squashed square frame (it maps onto any resolution by fractions).
 */
export async function objectInput(source: Rgb, loc: Localization, size: number, opts: CropOptions = {}): Promise<Buffer> {
  const margin = opts.margin ?? 0.08;
  const box: Box = loc.mask.box;
  const W = source.width;
  const H = source.height;
  const bw = (box.x1 - box.x0) * W;
  const bh = (box.y1 - box.y0) * H;
  const m = margin * Math.max(bw, bh);
  const x0 = Math.max(0, Math.floor(box.x0 * W - m));
  const y0 = Math.max(0, Math.floor(box.y0 * H - m));
  const x1 = Math.min(W, Math.ceil(box.x1 * W + m));
  const y1 = Math.min(H, Math.ceil(box.y1 * H + m));
  const cw = Math.max(1, x1 - x0);
  const ch = Math.max(1, y1 - y0);
  const crop = Buffer.alloc(cw * ch * 3);
  const bm = loc.bitmap;
  const blank = (opts.blankBackground ?? true) && loc.found;
  for (let y = 0; y < ch; y++) {
    const my = Math.min(bm.height - 1, Math.floor(((y0 + y + 0.5) / H) * bm.height));
    for (let x = 0; x < cw; x++) {
      const s = ((y0 + y) * W + x0 + x) * 3;
      const d = (y * cw + x) * 3;
      const mx = Math.min(bm.width - 1, Math.floor(((x0 + x + 0.5) / W) * bm.width));
      if (blank && !bm.data[my * bm.width + mx]) {
        crop[d] = NEUTRAL[0];
        crop[d + 1] = NEUTRAL[1];
        crop[d + 2] = NEUTRAL[2];
      } else {
        crop[d] = source.data[s]!;
        crop[d + 1] = source.data[s + 1]!;
        crop[d + 2] = source.data[s + 2]!;
      }
    }
  }
  return sharp(crop, { raw: { width: cw, height: ch, channels: 3 } })
    .resize(size, size, { fit: 'contain', background: { r: NEUTRAL[0], g: NEUTRAL[1], b: NEUTRAL[2] } })
    .raw()
    .toBuffer();
}
