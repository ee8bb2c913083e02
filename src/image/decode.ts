import sharp, { type Metadata } from 'sharp';
import { VisorError, errorMessage } from '../errors.js';

import type { DecodeLimits } from './limits.js';

export { DEFAULT_MAX_PIXELS, type DecodeLimits } from './limits.js';

/** RGB pixels at the model's input size, with what we learned about the source image. */
export interface ModelInput {
  /** size × size × 3 bytes, row-major RGB. */
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

/**
 * Decodes any format sharp reads into RGB pixels at `size`×`size`: EXIF orientation applied,
 * transparency flattened onto white (product shots on transparent backgrounds), grey, CMYK and
 * 16-bit images converted to 8-bit sRGB, first frame of animations. The whole image is kept
 * (squashed, not cropped) so nothing near the border is lost to the features.
 */
export async function decodeForModel(bytes: Buffer, size: number, limits: DecodeLimits): Promise<ModelInput> {
  if (bytes.length === 0) throw new VisorError('IMAGE_INVALID', 'empty file');
  const opts = { limitInputPixels: limits.maxPixels, failOn: 'truncated' as const, autoOrient: true };
  let meta: Metadata;
  try {
    // Header only, no pixels: the limit is checked just below, with the sizes in the message.
    meta = await sharp(bytes, { ...opts, limitInputPixels: false }).metadata();
  } catch (e) {
    throw new VisorError('IMAGE_INVALID', describeDecodeFailure(e), { cause: e });
  }
  const width = meta.autoOrient?.width ?? meta.width ?? 0;
  const height = meta.autoOrient?.height ?? meta.height ?? 0;
  if (width * height > limits.maxPixels) {
    throw new VisorError(
      'IMAGE_INVALID',
      `image too large (${width}×${height} = ${((width * height) / 1e6).toFixed(0)} MP, limit ${(limits.maxPixels / 1e6).toFixed(0)} MP)`,
    );
  }
  let pixels: Buffer;
  try {
    let img = sharp(bytes, opts);
    if (meta.hasAlpha) img = img.flatten({ background: WHITE });
    pixels = await img
      .resize(size, size, { fit: 'fill' })
      .toColourspace('srgb')
      .removeAlpha()
      .raw({ depth: 'uchar' })
      .toBuffer();
  } catch (e) {
    throw new VisorError('IMAGE_INVALID', describeDecodeFailure(e), { cause: e });
  }
  if (pixels.length !== size * size * 3) {
    throw new VisorError('IMAGE_INVALID', `decoder returned ${pixels.length} bytes, expected ${size * size * 3}`);
  }
  return { pixels, width, height, format: meta.format ?? 'unknown' };
}
