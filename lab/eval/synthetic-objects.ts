import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import type { Bitmap } from '../../src/localize/mask.js';
import { Rng } from '../random.js';

/**
 * A generated localisation benchmark in the spirit of product search (cosmetics packaging):
 * a few packaging silhouettes, each with a fixed livery, pasted at random positions and
 * scales onto cluttered photographs. Objects come in pairs sharing a livery (a white bottle
 * and a white pump bottle, a red tube and a red lipstick…), so colour alone cannot tell
 * every object apart: the shape has to.
 */

interface Livery {
  body: string;
  accent: string;
  cap: string;
}

interface Part {
  /** SVG element, drawn in the object's own units (viewBox 0 0 w h). */
  svg: (fill: Record<'body' | 'accent' | 'cap', string>) => string;
}

export interface ObjectDesign {
  name: string;
  /** Width and height of the object's drawing, in its own units (the aspect ratio). */
  w: number;
  h: number;
  livery: Livery;
  parts: Part[];
}

const WHITE: Livery = { body: '#f2efe8', accent: '#2f5fa8', cap: '#c9ccd2' };
const PINK: Livery = { body: '#e49ab0', accent: '#d4af37', cap: '#b8860b' };
const RED: Livery = { body: '#c0392b', accent: '#1c1c1c', cap: '#b5b5b5' };
const AMBER: Livery = { body: '#c47a22', accent: '#f3e2b8', cap: '#151515' };

const rect = (x: number, y: number, w: number, h: number, r: number, part: 'body' | 'accent' | 'cap'): Part => ({
  svg: (f) => `<rect x="${x}" y="${y}" width="${w}" height="${h}" rx="${r}" fill="${f[part]}"/>`,
});
const shape = (d: string, part: 'body' | 'accent' | 'cap'): Part => ({ svg: (f) => `<path d="${d}" fill="${f[part]}"/>` });
const ellipse = (cx: number, cy: number, rx: number, ry: number, part: 'body' | 'accent' | 'cap'): Part => ({
  svg: (f) => `<ellipse cx="${cx}" cy="${cy}" rx="${rx}" ry="${ry}" fill="${f[part]}"/>`,
});

/** The eight objects: four liveries, two silhouettes each. */
export const OBJECTS: readonly ObjectDesign[] = [
  {
    name: 'bottle',
    w: 60,
    h: 100,
    livery: WHITE,
    parts: [
      shape('M20,22 C2,27 0,32 0,40 V96 Q0,100 4,100 H56 Q60,100 60,96 V40 C60,32 58,27 40,22 Z', 'body'),
      rect(0, 55, 60, 25, 0, 'accent'),
      rect(20, 10, 20, 13, 1, 'cap'),
      rect(16, 0, 28, 11, 2, 'cap'),
    ],
  },
  {
    name: 'pump',
    w: 75,
    h: 100,
    livery: WHITE,
    parts: [
      rect(5, 34, 50, 66, 6, 'body'),
      rect(5, 60, 50, 18, 0, 'accent'),
      rect(18, 24, 24, 11, 2, 'cap'),
      rect(26, 6, 8, 19, 1, 'cap'),
      rect(26, 4, 49, 8, 2, 'cap'),
    ],
  },
  {
    name: 'jar',
    w: 100,
    h: 66,
    livery: PINK,
    parts: [rect(4, 22, 92, 44, 8, 'body'), rect(0, 0, 100, 24, 5, 'cap'), rect(4, 36, 92, 10, 0, 'accent')],
  },
  {
    name: 'compact',
    w: 100,
    h: 100,
    livery: PINK,
    parts: [ellipse(50, 50, 50, 50, 'body'), ellipse(50, 50, 34, 34, 'accent'), ellipse(50, 50, 26, 26, 'body')],
  },
  {
    name: 'tube',
    w: 64,
    h: 100,
    livery: RED,
    parts: [shape('M0,0 H64 V7 L50,84 H14 L0,7 Z', 'body'), rect(0, 0, 64, 7, 0, 'accent'), rect(13, 83, 38, 17, 3, 'cap')],
  },
  {
    name: 'lipstick',
    w: 34,
    h: 100,
    livery: RED,
    parts: [rect(0, 48, 34, 52, 3, 'accent'), rect(3, 34, 28, 15, 1, 'cap'), shape('M5,35 V10 L29,0 V35 Z', 'body')],
  },
  {
    name: 'flacon',
    w: 90,
    h: 100,
    livery: AMBER,
    parts: [shape('M15,40 H75 L90,56 V86 L76,100 H14 L0,86 V56 Z', 'body'), rect(36, 28, 18, 13, 0, 'accent'), rect(25, 0, 40, 29, 3, 'cap')],
  },
  {
    name: 'dropper',
    w: 46,
    h: 100,
    livery: AMBER,
    parts: [rect(0, 50, 46, 50, 7, 'body'), rect(0, 68, 46, 14, 0, 'accent'), rect(9, 38, 28, 13, 2, 'cap'), ellipse(23, 19, 11, 19, 'cap')],
  },
];

function jitter(hex: string, f: number): string {
  const n = parseInt(hex.slice(1), 16);
  const c = [(n >> 16) & 255, (n >> 8) & 255, n & 255].map((v) => Math.max(0, Math.min(255, Math.round(v * f))));
  return `#${c.map((v) => v.toString(16).padStart(2, '0')).join('')}`;
}

/** The object as an SVG at `width` × `height` pixels, with a soft left-to-right shading. */
export function objectSvg(o: ObjectDesign, width: number, height: number, brightness = 1): string {
  const f = {
    body: jitter(o.livery.body, brightness),
    accent: jitter(o.livery.accent, brightness),
    cap: jitter(o.livery.cap, brightness),
  };
  const parts = o.parts.map((p) => p.svg(f)).join('');
  // The shading is clipped to the silhouette by drawing it with the parts as a mask.
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${o.w} ${o.h}" preserveAspectRatio="none">` +
    `<defs><linearGradient id="s" x1="0" x2="1" y1="0" y2="0"><stop offset="0" stop-color="#fff" stop-opacity="0.25"/>` +
    `<stop offset="0.45" stop-color="#fff" stop-opacity="0"/><stop offset="1" stop-color="#000" stop-opacity="0.3"/></linearGradient>` +
    `<mask id="m">${o.parts.map((p) => p.svg({ body: '#fff', accent: '#fff', cap: '#fff' })).join('')}</mask></defs>` +
    `${parts}<rect x="0" y="0" width="${o.w}" height="${o.h}" fill="url(#s)" mask="url(#m)"/></svg>`
  );
}

export interface SyntheticImage {
  file: string;
  /** Index into OBJECTS: images of the same object are relevant to each other. */
  object: number;
  /** Ground-truth silhouette at the image's size. */
  mask: Bitmap;
}

export interface SyntheticOptions {
  /** Images per object (default 30). */
  perObject?: number;
  /** Image side in pixels (default 224). */
  size?: number;
  /** Object height as a fraction of the image side, drawn uniformly from this range. */
  scale?: [number, number];
  seed?: number;
  /** 'clutter': Flickr photographs (default); 'plain': light studio backdrops. */
  background?: 'clutter' | 'plain';
}

/**
 * Writes the benchmark images (JPEG) into `dir`, each object pasted onto a background drawn
 * from `backgrounds` (cycled in a seeded order), and returns them with their ground truth.
 */
export async function generateObjectScenes(dir: string, backgrounds: readonly string[], opts: SyntheticOptions = {}): Promise<SyntheticImage[]> {
  const perObject = opts.perObject ?? 30;
  const size = opts.size ?? 224;
  const [sLo, sHi] = opts.scale ?? [0.35, 0.7];
  const rng = new Rng(opts.seed ?? 6);
  const plain = opts.background === 'plain';
  if (!plain && backgrounds.length === 0) throw new Error('no background images');
  const order = rng.shuffle([...backgrounds]);
  fs.mkdirSync(dir, { recursive: true });
  const out: SyntheticImage[] = [];
  let n = 0;
  for (let r = 0; r < perObject; r++) {
    for (let object = 0; object < OBJECTS.length; object++) {
      const o = OBJECTS[object]!;
      // Height from the range, shrunk if the width would not fit.
      let oh = Math.round(size * rng.uniform(sLo, sHi));
      let ow = Math.round((oh * o.w) / o.h);
      if (ow > size * 0.9) {
        ow = Math.round(size * 0.9);
        oh = Math.round((ow * o.h) / o.w);
      }
      const left = rng.int(size - ow + 1);
      const top = rng.int(size - oh + 1);
      const rendered = await sharp(Buffer.from(objectSvg(o, ow, oh, rng.uniform(0.88, 1.1))))
        .ensureAlpha()
        .raw()
        .toBuffer({ resolveWithObject: true });
      const alpha = rendered.data;
      const mask = new Uint8Array(size * size);
      for (let y = 0; y < rendered.info.height; y++) {
        for (let x = 0; x < rendered.info.width; x++) {
          if (alpha[(y * rendered.info.width + x) * 4 + 3]! >= 128) mask[(top + y) * size + left + x] = 1;
        }
      }
      const base = plain
        ? sharp({ create: { width: size, height: size, channels: 3, background: jitter('#eceae6', rng.uniform(0.9, 1.05)) } })
        : sharp(order[n % order.length]!).resize(size, size, { fit: 'cover' });
      const objectPng = await sharp(rendered.data, { raw: { width: rendered.info.width, height: rendered.info.height, channels: 4 } })
        .png()
        .toBuffer();
      const file = path.join(dir, `${String(n).padStart(4, '0')}-${o.name}.jpg`);
      await base
        .composite([{ input: objectPng, left, top }])
        .jpeg({ quality: 90 })
        .toFile(file);
      out.push({ file, object, mask: { width: size, height: size, data: mask } });
      n++;
    }
  }
  return out;
}
