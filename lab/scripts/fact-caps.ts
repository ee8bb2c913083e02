/**
 * How the fact stages behave on pathological images: a page with ~600 words (more text boxes than
 * the cap) and a mosaic of many small photos (many objects). Prints boxes kept and time per image.
 *   npx tsx lab/scripts/fact-caps.ts
 */
import fs from 'node:fs';
import path from 'node:path';
import sharp, { type OutputInfo } from 'sharp';
import { MAX_OBJECTS, MAX_TEXT_BOXES, MAX_TEXT_COLUMNS } from '../../src/core/facts.js';
import { ObjectsReader } from '../../src/facts/objects-reader.js';
import { TextReader } from '../../src/facts/text-reader.js';

const words = 'sale open bakery coffee market station river garden window street music paper'.split(' ');
const cols = 20;
const rows = 30;
const width = 1280;
const height = 960;
let svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}"><rect width="100%" height="100%" fill="white"/>`;
for (let r = 0; r < rows; r++)
  for (let c = 0; c < cols; c++)
    svg += `<text x="${4 + c * 64}" y="${26 + r * 31}" font-family="DejaVu Sans" font-size="15" fill="black">${words[(r * cols + c) % words.length]}</text>`;
svg += '</svg>';
const page = await sharp(Buffer.from(svg)).removeAlpha().raw().toBuffer({ resolveWithObject: true });

const dir = '../shared/datasets/flickr8k-test1k';
const files = fs
  .readdirSync(path.join(dir, 'images'))
  .filter((f) => f.endsWith('.jpg'))
  .slice(0, 400);
const tile = 64;
const side = 20; // 20 × 20 photos of people, dogs, cars… in one 1280-px image
const tiles = await Promise.all(
  files.map(async (f, i) => ({
    input: await sharp(path.join(dir, 'images', f))
      .resize(tile, tile)
      .toBuffer(),
    left: (i % side) * tile,
    top: Math.floor(i / side) * tile,
  })),
);
const mosaic = await sharp({ create: { width: side * tile, height: side * tile, channels: 3, background: '#808080' } })
  .composite(tiles)
  .removeAlpha()
  .raw()
  .toBuffer({ resolveWithObject: true });

const image = (x: { data: Buffer; info: OutputInfo }) => ({ data: new Uint8Array(x.data), width: x.info.width, height: x.info.height });
const text = await TextReader.load();
const objects = await ObjectsReader.load();
for (const [name, img] of [
  ['page of 600 words', image(page)],
  ['mosaic of 400 photos', image(mosaic)],
] as const) {
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  const t = await text.read(img);
  const t1 = performance.now();
  const c1 = process.cpuUsage();
  const o = await objects.read(img);
  const t2 = performance.now();
  const c2 = process.cpuUsage();
  // CPU time as well as wall time: other work on the machine stretches the wall time.
  const cpu = (a: NodeJS.CpuUsage, b: NodeJS.CpuUsage) => ((b.user - a.user + b.system - a.system) / 1000).toFixed(0);
  console.log(
    `${name.padEnd(22)} text boxes kept ${String(t.text?.length).padStart(4)} (caps ${MAX_TEXT_BOXES} boxes, ${MAX_TEXT_COLUMNS} columns) in ${(t1 - t0).toFixed(0)} ms (${cpu(c0, c1)} ms CPU); objects ${String(o.objects?.length).padStart(4)} (cap ${MAX_OBJECTS}) in ${(t2 - t1).toFixed(0)} ms (${cpu(c1, c2)} ms CPU)`,
  );
}
await text.close();
await objects.close();
