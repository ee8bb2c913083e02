import path from 'node:path';
import sharp, { type Sharp } from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keepTextLine, TextReader } from '../src/facts/text-reader.js';
import type { RgbImage } from '../src/facts/reader.js';
import { minAreaRect } from '../src/models/ocr/geometry.js';
import { PaddleOcr } from '../src/models/ocr/paddle-ocr.js';
import { cropWidth, uprightRect } from '../src/models/ocr/recognize.js';
import { FLICKR_TEST_IMAGES } from './fixtures.js';

const DOG = path.join(FLICKR_TEST_IMAGES, '909808296_23c427022d.jpg');

async function rgb(input: Sharp): Promise<RgbImage> {
  const { data, info } = await input.removeAlpha().raw().toBuffer({ resolveWithObject: true });
  return { data: new Uint8Array(data), width: info.width, height: info.height };
}

describe('text reader (PaddleOCR PP-OCRv4)', () => {
  let reader: TextReader;
  beforeAll(async () => {
    reader = await TextReader.load();
  });
  afterAll(async () => reader.close());

  it('reads a word rendered 40 px high on a photo, with a box around it inside the image', async () => {
    const svg =
      '<svg xmlns="http://www.w3.org/2000/svg" width="224" height="224">' +
      '<text x="112" y="150" text-anchor="middle" font-family="DejaVu Sans" font-size="40" fill="yellow" transform="rotate(-8 112 150)">harbour</text></svg>';
    const image = await rgb(sharp(DOG).composite([{ input: Buffer.from(svg) }]));
    const facts = await reader.read(image);
    const words = facts.text!.map((l) => l.text.toLowerCase());
    expect(words).toContain('harbour');
    const line = facts.text!.find((l) => l.text.toLowerCase() === 'harbour')!;
    expect(line.score).toBeGreaterThan(0.8);
    const [x1, y1, x2, y2] = line.box;
    expect(0 <= x1 && x1 < x2 && x2 <= image.width && 0 <= y1 && y1 < y2 && y2 <= image.height).toBe(true);
    // Around where it was drawn: centred near (112, 150 − a third of the size).
    expect(Math.abs((x1 + x2) / 2 - 112)).toBeLessThan(12);
    expect(Math.abs((y1 + y2) / 2 - 137)).toBeLessThan(12);
  });

  it('finds no text in a blank image', async () => {
    const image = await rgb(sharp({ create: { width: 300, height: 200, channels: 3, background: { r: 240, g: 240, b: 235 } } }));
    expect((await reader.read(image)).text).toEqual([]);
  });

  it('copes with a tiny image and a very long thin one', async () => {
    for (const [w, h] of [
      [3, 2],
      [1, 1],
      [2000, 6],
      [5, 1500],
    ] as const) {
      const image = await rgb(sharp({ create: { width: w, height: h, channels: 3, background: { r: 10, g: 200, b: 30 } } }));
      const facts = await reader.read(image);
      expect(Array.isArray(facts.text)).toBe(true);
      for (const l of facts.text!) expect(l.box[2] <= w && l.box[3] <= h).toBe(true);
    }
  });

  it('reads a page dense with print within its recognition budget, the largest text first', async () => {
    let svg = '<svg xmlns="http://www.w3.org/2000/svg" width="800" height="600"><rect width="100%" height="100%" fill="white"/>';
    svg += '<text x="20" y="70" font-family="DejaVu Sans" font-size="56" fill="black">HEADLINE</text>';
    for (let r = 0; r < 16; r++)
      svg += `<text x="20" y="${120 + r * 28}" font-family="DejaVu Sans" font-size="14" fill="black">line ${r} of the small print under it</text>`;
    svg += '</svg>';
    const page = await rgb(sharp(Buffer.from(svg)));
    const budget = 1500;
    const ocr = await PaddleOcr.load({ maxColumns: budget });
    try {
      const lines = await ocr.read(page.data, page.width, page.height);
      const columns = lines.reduce((sum, l) => sum + cropWidth(uprightRect(l.rect)), 0);
      expect(columns).toBeLessThanOrEqual(budget);
      expect(lines.some((l) => l.text.toUpperCase().includes('HEADLINE'))).toBe(true);
      const unlimited = await PaddleOcr.load();
      const all = await unlimited.read(page.data, page.width, page.height);
      await unlimited.close();
      expect(all.length).toBeGreaterThan(lines.length); // the budget did drop small print
    } finally {
      await ocr.close();
    }
  });

  it('minimum-area rectangle of a turned box keeps its width along the text', () => {
    const a = (20 * Math.PI) / 180;
    const pts = [];
    for (let u = 0; u <= 100; u += 5) for (let v = 0; v <= 20; v += 5) pts.push({ x: u * Math.cos(a) - v * Math.sin(a), y: u * Math.sin(a) + v * Math.cos(a) });
    const r = minAreaRect(pts);
    expect(r.width).toBeCloseTo(100, 5);
    expect(r.height).toBeCloseTo(20, 5);
    expect(Math.atan2(r.uy, r.ux)).toBeCloseTo(a, 5);
  });

  it('keeps confident lines of two or more letters or digits', () => {
    expect(keepTextLine('SALE', 0.95)).toBe(true);
    expect(keepTextLine('21', 0.95)).toBe(true);
    expect(keepTextLine('S', 0.99)).toBe(false);
    expect(keepTextLine('--', 0.99)).toBe(false);
    expect(keepTextLine('SALE', 0.3)).toBe(false);
  });
});
