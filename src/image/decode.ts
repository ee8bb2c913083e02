import sharp, { type Metadata } from 'sharp';
import { VisorError, errorMessage } from '../errors.js';

import { readJpegHeader } from './jpeg-header.js';
import type { DecodeLimits } from './limits.js';

export { DEFAULT_MAX_PIXELS, type DecodeLimits } from './limits.js';

/** RGB pixels at the model's input size, with what we learned about the source image. */
export interface ModelInput {
  /** Row-major RGB: size × size × 3 bytes from decodeForModel, width × height × 3 from decodeRgb. */
  pixels: Buffer;
  width: number;
  height: number;
  format: string;
}

// libvips spreads one small decode over several threads, which costs more than it saves when
// many images are decoded at once: the pipeline gets its parallelism from concurrent decodes.
sharp.concurrency(1);
// The operation cache holds recently decoded images; an indexer never sees the same bytes twice.
sharp.cache(false);

const WHITE = { r: 255, g: 255, b: 255 };

/**
 * Whether the bytes end before the format's end marker. Checked from the bytes themselves
 * because libvips keeps its error text in a shared buffer that concurrent decodes can clear.
 */
export function looksTruncated(bytes: Uint8Array): boolean {
  const n = bytes.length;
  const tail = (k: number) => bytes.subarray(Math.max(0, n - k));
  if (bytes[0] === 0xff && bytes[1] === 0xd8) {
    // JPEG: the end-of-image marker, possibly followed by a little padding.
    const t = tail(64);
    for (let i = t.length - 2; i >= 0; i--) if (t[i] === 0xff && t[i + 1] === 0xd9) return false;
    return true;
  }
  if (n >= 8 && bytes[0] === 0x89 && bytes[1] === 0x50 && bytes[2] === 0x4e && bytes[3] === 0x47) {
    return !Buffer.from(tail(16)).includes('IEND');
  }
  if (bytes[0] === 0x47 && bytes[1] === 0x49 && bytes[2] === 0x46) return bytes[n - 1] !== 0x3b; // GIF trailer
  if (n >= 12 && Buffer.from(bytes.subarray(0, 4)).toString('latin1') === 'RIFF') {
    return Buffer.from(bytes.buffer, bytes.byteOffset, n).readUInt32LE(4) + 8 > n; // WebP: RIFF size
  }
  const magic = n >= 8 ? Buffer.from(bytes.subarray(0, 4)).toString('latin1') : '';
  if (magic === 'II*\0' || magic === 'MM\0*') {
    // TIFF: the first directory is often written last, so a cut file points past its end
    // (libvips then calls it an unknown format).
    const b = Buffer.from(bytes.buffer, bytes.byteOffset, n);
    return (magic === 'II*\0' ? b.readUInt32LE(4) : b.readUInt32BE(4)) + 2 > n;
  }
  return false;
}

/** A reason a user can act on, from libvips' wording. */
export function describeDecodeFailure(e: unknown): string {
  const msg = errorMessage(e);
  if (/unsupported image format|bad seek|not a known file format/i.test(msg)) return 'not an image (unrecognised format)';
  if (/exceeds pixel limit/i.test(msg)) return 'image too large (pixel limit)';
  if (/premature end|truncat|unexpected end|end of (file|stream|data)|not enough data/i.test(msg)) {
    return 'truncated image data';
  }
  return `corrupt image (${msg.split('\n')[0]!.trim()})`;
}

/** Reads the header, checks the pixel limit, and returns a decoder set up for 8-bit sRGB. */
async function openImage(bytes: Buffer, limits: DecodeLimits, fail: (e: unknown) => never) {
  const opts = { limitInputPixels: limits.maxPixels, failOn: 'truncated' as const, autoOrient: true };
  // JPEG (no alpha channel) read from its own header: one libvips call per image, not two.
  const jpeg = readJpegHeader(bytes);
  if (jpeg) {
    checkPixels(jpeg.width, jpeg.height, limits);
    return { img: sharp(bytes, opts), width: jpeg.width, height: jpeg.height, format: 'jpeg' };
  }
  let meta: Metadata;
  try {
    // Header only, no pixels: the limit is checked just below, with the sizes in the message.
    meta = await sharp(bytes, { ...opts, limitInputPixels: false }).metadata();
  } catch (e) {
    return fail(e);
  }
  const width = meta.autoOrient?.width ?? meta.width ?? 0;
  const height = meta.autoOrient?.height ?? meta.height ?? 0;
  checkPixels(width, height, limits);
  let img = sharp(bytes, opts);
  if (meta.hasAlpha) img = img.flatten({ background: WHITE });
  return { img, width, height, format: meta.format ?? 'unknown' };
}

/** A pixel count as people read it: megapixels, or plain pixels under one (a --max-pixels 1000 limit is not "0 MP"). */
function pixelCount(n: number): string {
  return n >= 1e7 ? `${(n / 1e6).toFixed(0)} MP` : n >= 1e6 ? `${(n / 1e6).toFixed(1)} MP` : `${n} pixels`;
}

function checkPixels(width: number, height: number, limits: DecodeLimits): void {
  if (width * height > limits.maxPixels) {
    throw new VisorError('IMAGE_INVALID', `image too large (${width}×${height} = ${pixelCount(width * height)}, limit ${pixelCount(limits.maxPixels)})`);
  }
}

function decodeFailure(bytes: Buffer): (e: unknown) => never {
  return (e) => {
    throw new VisorError('IMAGE_INVALID', looksTruncated(bytes) ? 'truncated image data' : describeDecodeFailure(e), { cause: e });
  };
}

/**
 * The resampling kernel for squashing a `width`×`height` image to `size`×`size`. Enlarging
 * (thumbnails, 32×32 CIFAR images) uses bilinear interpolation: bicubic and Lanczos (sharp's
 * default) sharpen the enlarged pixel grid and JPEG blocks into ringing edges that the classifier
 * reads as texture. Measured on CIFAR-10 (32 → 224), zero-shot accuracy 0.534 (Lanczos, and
 * bicubic: the same for enlarging) → 0.550 (bilinear), 0.231 (nearest); a further blur after
 * bilinear lowers it (0.524). Shrinking keeps Lanczos, which antialiases best.
 */
export function resizeKernel(width: number, height: number, size: number): 'linear' | 'lanczos3' {
  return width < size || height < size ? 'linear' : 'lanczos3';
}

/**
 * Decodes any format sharp reads into RGB pixels at `size`×`size`: EXIF orientation applied,
 * transparency flattened onto white (product shots on transparent backgrounds), grey, CMYK and
 * 16-bit images converted to 8-bit sRGB, first frame of animations. The whole image is kept
 * (squashed, not cropped) so nothing near the border is lost to the features.
 */
export async function decodeForModel(bytes: Buffer, size: number, limits: DecodeLimits): Promise<ModelInput> {
  if (bytes.length === 0) throw new VisorError('IMAGE_INVALID', 'empty file');
  const fail = decodeFailure(bytes);
  const { img, width, height, format } = await openImage(bytes, limits, fail);
  let pixels: Buffer;
  try {
    pixels = await img
      .resize(size, size, { fit: 'fill', kernel: resizeKernel(width, height, size) })
      .toColourspace('srgb')
      .removeAlpha()
      .raw({ depth: 'uchar' })
      .toBuffer();
  } catch (e) {
    return fail(e);
  }
  if (pixels.length !== size * size * 3) {
    throw new VisorError('IMAGE_INVALID', `decoder returned ${pixels.length} bytes, expected ${size * size * 3}`);
  }
  return { pixels, width, height, format };
}

/**
 * The same decoding at the image's own size (`width`×`height`×3 bytes of RGB), for models
 * whose preprocessing resizes and crops in its own way.
 */
export async function decodeRgb(bytes: Buffer, limits: DecodeLimits): Promise<ModelInput> {
  if (bytes.length === 0) throw new VisorError('IMAGE_INVALID', 'empty file');
  const fail = decodeFailure(bytes);
  const { img, width, height, format } = await openImage(bytes, limits, fail);
  let pixels: Buffer;
  try {
    pixels = await img.toColourspace('srgb').removeAlpha().raw({ depth: 'uchar' }).toBuffer();
  } catch (e) {
    return fail(e);
  }
  if (pixels.length !== width * height * 3) {
    throw new VisorError('IMAGE_INVALID', `decoder returned ${pixels.length} bytes, expected ${width * height * 3}`);
  }
  return { pixels, width, height, format };
}

/**
 * The same decoding, shrunk to fit `maxSide`×`maxSide` (never enlarged), with the image's own
 * size: what the fact readers take. Shrinking is asked of the decoder itself, so a JPEG decodes
 * at 1/2, 1/4 or 1/8 scale (libjpeg's shrink-on-load) and a 12-megapixel photo costs a fraction
 * of a full decode.
 */
export async function decodeRgbFit(bytes: Buffer, maxSide: number, limits: DecodeLimits): Promise<ModelInput & { pixelsWidth: number; pixelsHeight: number }> {
  if (bytes.length === 0) throw new VisorError('IMAGE_INVALID', 'empty file');
  const fail = decodeFailure(bytes);
  const { img, width, height, format } = await openImage(bytes, limits, fail);
  let out: { data: Buffer; info: { width: number; height: number; channels: number } };
  try {
    out = await img
      .resize(maxSide, maxSide, { fit: 'inside', withoutEnlargement: true })
      .toColourspace('srgb')
      .removeAlpha()
      .raw({ depth: 'uchar' })
      .toBuffer({ resolveWithObject: true });
  } catch (e) {
    return fail(e);
  }
  const { width: w, height: h, channels } = out.info;
  if (channels !== 3 || out.data.length !== w * h * 3) {
    throw new VisorError('IMAGE_INVALID', `decoder returned ${out.data.length} bytes, expected ${w * h * 3}`);
  }
  return { pixels: out.data, width, height, format, pixelsWidth: w, pixelsHeight: h };
}
