import fs from 'node:fs';
import sharp, { type Sharp } from 'sharp';
import { describe, expect, it } from 'vitest';
import { DEFAULT_MAX_PIXELS, decodeForModel, describeDecodeFailure, looksTruncated, resizeKernel, type ModelInput } from '../src/image/decode.js';
import { VisorError } from '../src/errors.js';
import { flickrTestImages, pngWithHeader } from './fixtures.js';

const SIZE = 224;

const decode = (bytes: Buffer, maxPixels = DEFAULT_MAX_PIXELS): Promise<ModelInput> => decodeForModel(bytes, SIZE, { maxPixels });

/** Mean RGB of the square region [x0, x1) × [y0, y1) of a SIZE×SIZE×3 buffer. */
function meanColour(px: Buffer, x0: number, y0: number, x1: number, y1: number): [number, number, number] {
  const sum = [0, 0, 0];
  let n = 0;
  for (let y = y0; y < y1; y++) {
    for (let x = x0; x < x1; x++) {
      const o = (y * SIZE + x) * 3;
      sum[0]! += px[o]!;
      sum[1]! += px[o + 1]!;
      sum[2]! += px[o + 2]!;
      n++;
    }
  }
  return [sum[0]! / n, sum[1]! / n, sum[2]! / n];
}

/** Every pixel of the buffer, as [r, g, b] triples. */
function* pixelsOf(px: Buffer): Generator<[number, number, number]> {
  for (let o = 0; o < px.length; o += 3) yield [px[o]!, px[o + 1]!, px[o + 2]!];
}

/** Solid-colour raw input for sharp. */
const solid = (width: number, height: number, r: number, g: number, b: number, alpha?: number) =>
  sharp({
    create: {
      width,
      height,
      channels: alpha === undefined ? 3 : 4,
      background: alpha === undefined ? { r, g, b } : { r, g, b, alpha },
    },
  });

/** A 60×30 image: left half pure red, right half pure blue. */
function redBlue(): Sharp {
  const w = 60;
  const h = 30;
  const raw = Buffer.alloc(w * h * 3);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const o = (y * w + x) * 3;
      if (x < w / 2) raw[o] = 255;
      else raw[o + 2] = 255;
    }
  }
  return sharp(raw, { raw: { width: w, height: h, channels: 3 } });
}

/** A small picture with structure (a gradient), so formats have something to compress. */
function gradient(width = 64, height = 48): Sharp {
  const raw = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const o = (y * width + x) * 3;
      raw[o] = Math.round((x / (width - 1)) * 255);
      raw[o + 1] = Math.round((y / (height - 1)) * 255);
      raw[o + 2] = 128;
    }
  }
  return sharp(raw, { raw: { width, height, channels: 3 } });
}

/** Asserts `p` rejects with VisorError IMAGE_INVALID and returns it. */
async function invalid(p: Promise<unknown>): Promise<VisorError> {
  const e = await p.then(
    () => {
      throw new Error('expected decode to fail');
    },
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(VisorError);
  expect((e as VisorError).code).toBe('IMAGE_INVALID');
  return e as VisorError;
}

function expectModelInput(out: ModelInput, width: number, height: number, format: string): void {
  expect(out.pixels.length).toBe(SIZE * SIZE * 3);
  expect(out.width).toBe(width);
  expect(out.height).toBe(height);
  expect(out.format).toBe(format);
}

describe('decodeForModel: formats', () => {
  it('decodes JPEG', async () => {
    const out = await decode(await gradient().jpeg().toBuffer());
    expectModelInput(out, 64, 48, 'jpeg');
    // Squashed, not cropped: the left edge is dark red, the right edge bright red.
    expect(meanColour(out.pixels, 0, 100, 4, 124)[0]).toBeLessThan(20);
    expect(meanColour(out.pixels, 220, 100, 224, 124)[0]).toBeGreaterThan(235);
  });

  it('decodes a real Flickr8k photo', async () => {
    const [file] = flickrTestImages(1);
    const bytes = fs.readFileSync(file!);
    const meta = await sharp(bytes).metadata();
    const out = await decode(bytes);
    expectModelInput(out, meta.autoOrient.width, meta.autoOrient.height, 'jpeg');
    // A photo is not one flat colour.
    const first = out.pixels.subarray(0, 3);
    expect([...pixelsOf(out.pixels)].some(([r, g, b]) => r !== first[0] || g !== first[1] || b !== first[2])).toBe(true);
  });

  it('decodes PNG', async () => {
    const out = await decode(await gradient(40, 50).png().toBuffer());
    expectModelInput(out, 40, 50, 'png');
    // PNG is lossless: the top-left pixel is exactly (0, 0, 128).
    expect([...out.pixels.subarray(0, 3)]).toEqual([0, 0, 128]);
  });

  it('decodes WebP', async () => {
    const out = await decode(await gradient(50, 40).webp({ lossless: true }).toBuffer());
    expectModelInput(out, 50, 40, 'webp');
    expect([...out.pixels.subarray(0, 3)]).toEqual([0, 0, 128]);
  });

  it('decodes the first frame of an animated GIF', async () => {
    // Two 32×32 pages stacked vertically: green, then blue.
    const raw = Buffer.alloc(32 * 64 * 3);
    for (let i = 0; i < 32 * 64; i++) raw[i * 3 + (i < 32 * 32 ? 1 : 2)] = 255;
    const anim = await sharp(raw, { raw: { width: 32, height: 64, channels: 3, pageHeight: 32 } })
      .gif({ delay: [100, 100], loop: 0 })
      .toBuffer();
    expect((await sharp(anim).metadata()).pages).toBe(2);
    const out = await decode(anim);
    expectModelInput(out, 32, 32, 'gif');
    // Every pixel green: nothing of the second (blue) frame shows through.
    expect([...pixelsOf(out.pixels)].filter(([r, g, b]) => !(g > 200 && r < 50 && b < 50))).toEqual([]);
  });

  it('decodes TIFF', async () => {
    const out = await decode(await gradient(30, 20).tiff({ compression: 'lzw' }).toBuffer());
    expectModelInput(out, 30, 20, 'tiff');
    expect([...out.pixels.subarray(0, 3)]).toEqual([0, 0, 128]);
  });

  it('decodes AVIF', async (ctx) => {
    let avif: Buffer;
    try {
      avif = await solid(64, 64, 200, 30, 30).avif().toBuffer();
    } catch {
      ctx.skip(); // this build of sharp cannot encode AVIF: nothing to test
      return;
    }
    const out = await decode(avif);
    expectModelInput(out, 64, 64, 'heif');
    const [r, g, b] = meanColour(out.pixels, 0, 0, SIZE, SIZE);
    expect(r).toBeGreaterThan(170);
    expect(g).toBeLessThan(60);
    expect(b).toBeLessThan(60);
  });

  it('decodes SVG', async () => {
    const svg = Buffer.from(
      '<svg xmlns="http://www.w3.org/2000/svg" width="100" height="50">' +
        '<rect x="0" y="0" width="50" height="50" fill="#00ff00"/>' +
        '<rect x="50" y="0" width="50" height="50" fill="#0000ff"/></svg>',
    );
    const out = await decode(svg);
    expectModelInput(out, 100, 50, 'svg');
    const left = meanColour(out.pixels, 20, 90, 90, 130);
    const right = meanColour(out.pixels, 134, 90, 204, 130);
    expect(left[1]).toBeGreaterThan(240);
    expect(left[2]).toBeLessThan(15);
    expect(right[2]).toBeGreaterThan(240);
    expect(right[1]).toBeLessThan(15);
  });
});

describe('decodeForModel: orientation', () => {
  it('keeps red left and blue right without an orientation tag (control)', async () => {
    const out = await decode(await redBlue().jpeg({ quality: 95 }).toBuffer());
    expectModelInput(out, 60, 30, 'jpeg');
    const left = meanColour(out.pixels, 10, 92, 50, 132);
    const right = meanColour(out.pixels, 174, 92, 214, 132);
    expect(left[0]).toBeGreaterThan(200);
    expect(left[2]).toBeLessThan(50);
    expect(right[2]).toBeGreaterThan(200);
    expect(right[0]).toBeLessThan(50);
  });

  it('applies EXIF orientation 6 (rotate 90° clockwise): red on top, blue at the bottom', async () => {
    const jpeg = await redBlue().jpeg({ quality: 95 }).withMetadata({ orientation: 6 }).toBuffer();
    // The file itself is stored 60×30 with the tag; only the decoder turns it.
    const stored = await sharp(jpeg).metadata();
    expect([stored.width, stored.height, stored.orientation]).toEqual([60, 30, 6]);
    const out = await decode(jpeg);
    expectModelInput(out, 30, 60, 'jpeg');
    const top = meanColour(out.pixels, 92, 10, 132, 50);
    const bottom = meanColour(out.pixels, 92, 174, 132, 214);
    expect(top[0]).toBeGreaterThan(200);
    expect(top[2]).toBeLessThan(50);
    expect(bottom[2]).toBeGreaterThan(200);
    expect(bottom[0]).toBeLessThan(50);
  });
});

describe('decodeForModel: colour handling', () => {
  it('flattens a fully transparent PNG onto white', async () => {
    const png = await solid(20, 20, 0, 0, 0, 0).png().toBuffer();
    expect((await sharp(png).metadata()).hasAlpha).toBe(true);
    const out = await decode(png);
    expectModelInput(out, 20, 20, 'png');
    expect([...pixelsOf(out.pixels)].filter(([r, g, b]) => r !== 255 || g !== 255 || b !== 255)).toEqual([]);
  });

  it('flattens half-transparent red onto white as pink', async () => {
    const out = await decode(await solid(20, 20, 255, 0, 0, 0.5).png().toBuffer());
    const [r, g, b] = meanColour(out.pixels, 0, 0, SIZE, SIZE);
    expect(r).toBeGreaterThanOrEqual(250);
    expect(Math.abs(g - 128)).toBeLessThanOrEqual(10);
    expect(Math.abs(b - 128)).toBeLessThanOrEqual(10);
  });

  it('expands greyscale to three equal channels', async () => {
    const grey = await gradient().greyscale().toColourspace('b-w').png().toBuffer();
    expect((await sharp(grey).metadata()).channels).toBe(1);
    const out = await decode(grey);
    expectModelInput(out, 64, 48, 'png');
    const all = [...pixelsOf(out.pixels)];
    expect(all.filter(([r, g, b]) => g !== r || b !== r)).toEqual([]);
    const levels = new Set(all.map(([r]) => r));
    expect(levels.size).toBeGreaterThan(20); // still a gradient, not a flat fill
  });

  it('converts CMYK JPEG to sensible RGB', async () => {
    // Pure sRGB green is outside the CMYK gamut; libvips maps it to a yellowish green, which
    // must still come back green-dominant (an inverted or ignored K channel would not).
    const cmyk = await solid(32, 32, 0, 255, 0).toColourspace('cmyk').jpeg({ quality: 100 }).toBuffer();
    const meta = await sharp(cmyk).metadata();
    expect([meta.space, meta.channels]).toEqual(['cmyk', 4]);
    const out = await decode(cmyk);
    expectModelInput(out, 32, 32, 'jpeg');
    const [r, g, b] = meanColour(out.pixels, 0, 0, SIZE, SIZE);
    expect(g).toBeGreaterThan(150);
    expect(g).toBeGreaterThan(r);
    expect(g).toBeGreaterThan(b + 100);
  });

  it('converts an in-gamut CMYK colour back close to its source', async () => {
    const cmyk = await solid(32, 32, 0, 160, 0).toColourspace('cmyk').jpeg({ quality: 100 }).toBuffer();
    const [r, g, b] = meanColour((await decode(cmyk)).pixels, 0, 0, SIZE, SIZE);
    expect(Math.abs(r - 0)).toBeLessThan(40);
    expect(Math.abs(g - 160)).toBeLessThan(20);
    expect(Math.abs(b - 0)).toBeLessThan(40);
  });

  it('decodes 16-bit PNG to the same pixels as its 8-bit version (±1)', async () => {
    const png16 = await gradient().toColourspace('rgb16').png().toBuffer();
    expect((await sharp(png16).metadata()).depth).toBe('ushort');
    const png8 = await gradient().png().toBuffer();
    const a = await decode(png16);
    const b = await decode(png8);
    expectModelInput(a, 64, 48, 'png');
    let maxDiff = 0;
    for (let i = 0; i < a.pixels.length; i++) maxDiff = Math.max(maxDiff, Math.abs(a.pixels[i]! - b.pixels[i]!));
    expect(maxDiff).toBeLessThanOrEqual(1);
  });
});

describe('decodeForModel: resampling', () => {
  it('enlarges small images bilinearly: no ringing beyond the source values (Lanczos overshoots)', async () => {
    // 8×8 vertical stripes of grey 64 and 192, two pixels wide: enlarged 28×, a ringing kernel
    // goes below 64 and above 192 next to each edge; bilinear interpolation stays between them.
    const raw = Buffer.alloc(8 * 8 * 3);
    for (let i = 0; i < 64; i++) raw.fill(((i % 8) >> 1) & 1 ? 192 : 64, i * 3, i * 3 + 3);
    const png = await sharp(raw, { raw: { width: 8, height: 8, channels: 3 } })
      .png()
      .toBuffer();
    const out = await decode(png);
    const range = (px: Buffer): [number, number] => px.reduce<[number, number]>(([lo, hi], v) => [Math.min(lo, v), Math.max(hi, v)], [255, 0]);
    const [lo, hi] = range(out.pixels);
    expect(lo).toBeGreaterThanOrEqual(63);
    expect(hi).toBeLessThanOrEqual(193);
    const lanczos = await sharp(png).resize(SIZE, SIZE, { fit: 'fill' }).raw().toBuffer();
    expect(range(lanczos)[0]).toBeLessThan(60); // the control: the default kernel does ring
  });

  it('keeps Lanczos for shrinking and uses bilinear when either side is enlarged', () => {
    expect(resizeKernel(32, 32, 224)).toBe('linear');
    expect(resizeKernel(500, 100, 224)).toBe('linear');
    expect(resizeKernel(224, 224, 224)).toBe('lanczos3');
    expect(resizeKernel(500, 375, 224)).toBe('lanczos3');
  });
});

describe('decodeForModel: failures', () => {
  it('refuses an empty buffer', async () => {
    const e = await invalid(decode(Buffer.alloc(0)));
    expect(e.message).toMatch(/empty file/);
  });

  it('refuses a text file as not an image', async () => {
    const e = await invalid(decode(Buffer.from('name,price\nmug,12\nlamp,40\n')));
    expect(e.message).toMatch(/not an image/);
  });

  it('refuses a JPEG truncated to half its bytes', async () => {
    const [file] = flickrTestImages(1);
    const bytes = fs.readFileSync(file!);
    const e = await invalid(decode(bytes.subarray(0, Math.floor(bytes.length / 2))));
    expect(e.message).toMatch(/truncated/);
  });

  it('refuses a decompression bomb (30000×30000 PNG header) before decoding', async () => {
    const bomb = pngWithHeader(30000, 30000);
    expect(bomb.length).toBeLessThan(100);
    const t0 = performance.now();
    const e = await invalid(decode(bomb, 100_000_000));
    expect(performance.now() - t0).toBeLessThan(1000);
    // Says how large the image is and what the limit is.
    expect(e.message).toBe('image too large (30000×30000 = 900 MP, limit 100 MP)');
  });

  it('lets the same header through when the limit allows it (then fails as truncated, not as too large)', async () => {
    const bomb = pngWithHeader(30000, 30000);
    const t0 = performance.now();
    const outcome: unknown = await decode(bomb, 1_000_000_000).catch((err: unknown) => err);
    expect(performance.now() - t0).toBeLessThan(10_000);
    if (outcome instanceof Error) {
      // Today libpng reports 'read error' here, described as 'corrupt image (...)'.
      expect(outcome).toBeInstanceOf(VisorError);
      expect((outcome as VisorError).code).toBe('IMAGE_INVALID');
      expect(outcome.message).not.toMatch(/too large/);
    } else {
      expectModelInput(outcome as ModelInput, 30000, 30000, 'png');
    }
  });
});

describe('describeDecodeFailure', () => {
  it('maps libvips messages to reasons a user can act on', () => {
    expect(describeDecodeFailure(new Error('Input buffer contains unsupported image format'))).toBe('not an image (unrecognised format)');
    expect(describeDecodeFailure(new Error('Input image exceeds pixel limit'))).toBe('image too large (pixel limit)');
    expect(describeDecodeFailure(new Error('VipsJpeg: Premature end of JPEG file'))).toBe('truncated image data');
    expect(describeDecodeFailure(new Error('pngload_buffer: libpng read error\nvips2png: unable to write'))).toBe(
      'corrupt image (pngload_buffer: libpng read error)',
    );
    expect(describeDecodeFailure('not an Error')).toBe('corrupt image (not an Error)');
  });
});

describe('looksTruncated', () => {
  it('tells complete files from cut ones by their end markers, whatever libvips says', async () => {
    const jpeg = fs.readFileSync(flickrTestImages(1)[0]!);
    const png = await sharp({ create: { width: 40, height: 30, channels: 3, background: '#3a6' } })
      .png()
      .toBuffer();
    const gif = await sharp({ create: { width: 8, height: 8, channels: 3, background: '#f00' } })
      .gif()
      .toBuffer();
    const webp = await sharp({ create: { width: 8, height: 8, channels: 3, background: '#00f' } })
      .webp()
      .toBuffer();
    // A photo as TIFF: libtiff writes the directory after the image data, so a cut file loses it.
    const tiff = await sharp(jpeg).resize(200).tiff().toBuffer();
    for (const whole of [jpeg, png, gif, webp, tiff]) {
      expect(looksTruncated(whole)).toBe(false);
      expect(looksTruncated(whole.subarray(0, Math.floor(whole.length * 0.7)))).toBe(true);
    }
    expect(looksTruncated(Buffer.from('plain text'))).toBe(false);
    const e = await decodeForModel(png.subarray(0, png.length - 20), 224, { maxPixels: DEFAULT_MAX_PIXELS }).catch((x: unknown) => x);
    expect((e as VisorError).message).toBe('truncated image data');
    const cutTiff = await decodeForModel(tiff.subarray(0, tiff.length >> 1), 224, { maxPixels: DEFAULT_MAX_PIXELS }).catch((x: unknown) => x);
    expect((cutTiff as VisorError).message).toBe('truncated image data');
  });
});
