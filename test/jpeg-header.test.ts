import fs from 'node:fs';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { readJpegHeader } from '../src/image/jpeg-header.js';
import { flickrTestImages } from './fixtures.js';

/** What libvips says the displayed size is (the answer the header reader must match). */
async function libvipsSize(bytes: Buffer): Promise<{ width: number; height: number }> {
  const m = await sharp(bytes).metadata();
  return { width: m.autoOrient.width, height: m.autoOrient.height };
}

describe('readJpegHeader', () => {
  it('agrees with libvips on real photos', async () => {
    for (const f of flickrTestImages(50)) {
      const bytes = fs.readFileSync(f);
      expect(readJpegHeader(bytes)).toEqual(await libvipsSize(bytes));
    }
  });

  it('applies every EXIF orientation (baseline and progressive)', async () => {
    const base = sharp({ create: { width: 60, height: 30, channels: 3, background: '#c33' } });
    for (let orientation = 1; orientation <= 8; orientation++) {
      for (const progressive of [false, true]) {
        const jpeg = await base.clone().jpeg({ progressive }).withMetadata({ orientation }).toBuffer();
        const size = readJpegHeader(jpeg);
        expect(size, `orientation ${orientation}`).toEqual(await libvipsSize(jpeg));
        expect(size).toEqual(orientation >= 5 ? { width: 30, height: 60 } : { width: 60, height: 30 });
      }
    }
  });

  it('reads CMYK JPEGs', async () => {
    const cmyk = await sharp({ create: { width: 33, height: 17, channels: 3, background: '#0a0' } })
      .toColourspace('cmyk')
      .jpeg()
      .toBuffer();
    expect(readJpegHeader(cmyk)).toEqual({ width: 33, height: 17 });
  });

  it('gives up (null) on anything it cannot read, leaving it to libvips', async () => {
    const jpeg = fs.readFileSync(flickrTestImages(1)[0]!);
    expect(readJpegHeader(Buffer.from('plain text'))).toBeNull();
    expect(readJpegHeader(await sharp(jpeg).png().toBuffer())).toBeNull();
    expect(readJpegHeader(jpeg.subarray(0, 40))).toBeNull(); // cut before the frame header
    expect(readJpegHeader(Buffer.alloc(0))).toBeNull();
    const corrupt = Buffer.from(jpeg);
    corrupt[2] = 0x00; // the first marker is no marker
    expect(readJpegHeader(corrupt)).toBeNull();
  });
});
