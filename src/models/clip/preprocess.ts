import sharp from 'sharp';
import { decodeRgb, type DecodeLimits, type ModelInput } from '../../image/decode.js';
import { VisorError, errorMessage } from '../../errors.js';
import { outputSize, type ImagePreprocessing } from './hf-config.js';

interface Raw {
  data: Buffer;
  width: number;
  height: number;
}

/**
 * The target size of a shortest-edge resize, computed as transformers.js does (and, up to
 * its two-decimal guard against float error, as Hugging Face's Python processors do): the
 * short side becomes `edge`, the long side keeps the aspect ratio, rounded down.
 */
export function shortestEdgeSize(width: number, height: number, edge: number): { width: number; height: number } {
  const f = Math.max(edge / width, edge / height);
  return {
    width: Math.floor(Number((width * f).toFixed(2))),
    height: Math.floor(Number((height * f).toFixed(2))),
  };
}

/**
 * Resamples raw RGB with libvips. Nearest, bilinear and bicubic go through an affine
 * transform, as in transformers.js, so the pixels match the reference preprocessing exactly.
 * Note that an affine transform samples without low-pass filtering: a large photo shrunk this
 * way aliases a little, where PIL (used in training) would first blur.
 */
async function resample(rgb: Buffer, w: number, h: number, to: { width: number; height: number }, p: ImagePreprocessing): Promise<Raw> {
  if (to.width === w && to.height === h) return { data: rgb, width: w, height: h };
  let img = sharp(rgb, { raw: { width: w, height: h, channels: 3 } });
  if (p.resample === 'lanczos') img = img.resize({ width: to.width, height: to.height, fit: 'fill', kernel: 'lanczos3' });
  else img = img.affine([to.width / w, 0, 0, to.height / h], { interpolator: p.resample });
  // libvips sizes an affine output from the transformed bounds; the crop then takes what it
  // made, as the reference does.
  const { data, info } = await img.raw().toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height };
}

/**
 * Centre crop to `cw`×`ch`, padding with black where the image is smaller; offsets round
 * down, as in transformers.js and Hugging Face's Python processors.
 */
function crop(rgb: Buffer, w: number, h: number, cw: number, ch: number): Buffer {
  if (w === cw && h === ch) return rgb;
  const out = Buffer.alloc(cw * ch * 3);
  const offX = (w - cw) / 2;
  const offY = (h - ch) / 2;
  const srcX = offX >= 0 ? Math.floor(offX) : 0;
  const dstX = offX >= 0 ? 0 : Math.floor(-offX);
  const srcY = offY >= 0 ? Math.floor(offY) : 0;
  const dstY = offY >= 0 ? 0 : Math.floor(-offY);
  const cols = Math.min(cw - dstX, w - srcX);
  const rows = Math.min(ch - dstY, h - srcY);
  for (let y = 0; y < rows; y++) {
    const from = ((srcY + y) * w + srcX) * 3;
    rgb.copy(out, ((dstY + y) * cw + dstX) * 3, from, from + cols * 3);
  }
  return out;
}

/**
 * A model's image preprocessing, driven by its `preprocessor_config.json`: decode (EXIF
 * orientation, transparency onto white, 8-bit sRGB), resize with the configured resampling,
 * centre crop — all on bytes, so `decode` yields exactly the pixels the model sees — then
 * rescale and normalise into the vision tower's float input.
 */
export class ImagePreprocessor {
  readonly width: number;
  readonly height: number;
  /** Per channel: pixel byte → normalised float, computed in float32 as the reference does. */
  private readonly tables: Float32Array[];

  constructor(readonly settings: ImagePreprocessing) {
    ({ width: this.width, height: this.height } = outputSize(settings));
    const f = Math.fround;
    this.tables = [0, 1, 2].map((c) => {
      const t = new Float32Array(256);
      for (let v = 0; v < 256; v++) {
        let x = settings.rescale === null ? v : f(settings.rescale * v);
        if (settings.normalize) x = f((x - settings.normalize.mean[c]!) / settings.normalize.std[c]!);
        t[v] = x;
      }
      return t;
    });
  }

  /** Decodes an image file and resizes and crops it: width × height × 3 bytes of RGB. */
  async decode(bytes: Buffer, limits: DecodeLimits): Promise<ModelInput> {
    const src = await decodeRgb(bytes, limits);
    const s = this.settings;
    let img: Raw = { data: src.pixels, width: src.width, height: src.height };
    if (s.resize) {
      const to = s.resize.kind === 'exact' ? { width: s.resize.width, height: s.resize.height } : shortestEdgeSize(img.width, img.height, s.resize.shortestEdge);
      try {
        img = await resample(img.data, img.width, img.height, to, s);
      } catch (e) {
        throw new VisorError('IMAGE_INVALID', `cannot resize image (${errorMessage(e)})`, { cause: e });
      }
    }
    const pixels = crop(img.data, img.width, img.height, this.width, this.height);
    return { pixels, width: src.width, height: src.height, format: src.format };
  }

  /** Writes decoded RGB (width × height × 3) into `out` at `offset` as the tower's CHW floats. */
  toTensor(rgb: Uint8Array, out: Float32Array, offset = 0): void {
    const n = this.width * this.height;
    if (rgb.length !== n * 3) throw new Error(`expected ${n * 3} bytes of RGB, got ${rgb.length}`);
    const [t0, t1, t2] = this.tables as [Float32Array, Float32Array, Float32Array];
    for (let p = 0, q = 0; p < n; p++, q += 3) {
      out[offset + p] = t0[rgb[q]!]!;
      out[offset + n + p] = t1[rgb[q + 1]!]!;
      out[offset + 2 * n + p] = t2[rgb[q + 2]!]!;
    }
  }
}
