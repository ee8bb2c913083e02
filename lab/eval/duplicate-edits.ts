import sharp, { type Sharp } from 'sharp';
import type { Rng } from '../random.js';

/**
 * The edits the near-duplicate benchmark makes of a photo: what copies in a catalogue or photo
 * library go through (resized, re-encoded, cropped, slightly rotated, mirrored, recoloured,
 * captioned or watermarked). Each is drawn from a seeded generator, so the benchmark repeats.
 */
export const EDIT_KINDS = ['resize', 'reencode', 'crop', 'crop-small', 'rotate', 'flip', 'colour', 'overlay'] as const;
export type EditKind = (typeof EDIT_KINDS)[number];

/** What each kind does, for the report. */
export const EDIT_DESCRIPTIONS: Record<EditKind, string> = {
  resize: 'scaled to 40–160 % (aspect kept)',
  reencode: 'JPEG quality 15–50, or WebP 30–60',
  crop: 'crop keeping 50–90 % of the area',
  'crop-small': 'crop keeping 20–49 % of the area (below half)',
  rotate: 'rotated ±3–12°, then cropped to the rotated frame',
  flip: 'mirrored left–right',
  colour: 'brightness ×0.6–1.4, saturation ×0.3–1.7, hue ±40°, or greyscale',
  overlay: 'a line of text and a logo drawn over it',
};

const WORDS = ['SALE', 'Holiday 2019', '© photo studio', 'BEST PRICE', 'memories', 'family trip', 'NEW', 'www.example.com'];

function cropBox(w: number, h: number, area: number, rng: Rng) {
  // The crop's aspect varies a little around the image's own.
  const aspect = rng.uniform(0.8, 1.25);
  let cw = Math.round(w * Math.sqrt(area * aspect));
  let ch = Math.round(h * Math.sqrt(area / aspect));
  cw = Math.max(16, Math.min(w, cw));
  ch = Math.max(16, Math.min(h, ch));
  return { left: rng.int(w - cw + 1), top: rng.int(h - ch + 1), width: cw, height: ch };
}

/** One edited copy of the image, as the bytes of a new file (its extension: `ext`). */
export async function editImage(bytes: Buffer, kind: EditKind, rng: Rng): Promise<{ bytes: Buffer; ext: string }> {
  const meta = await sharp(bytes).metadata();
  const w = meta.width!;
  const h = meta.height!;
  const jpeg = (img: Sharp, quality = 90) => img.jpeg({ quality }).toBuffer();
  switch (kind) {
    case 'resize': {
      const s = rng.uniform(0.4, 1.6);
      return { bytes: await jpeg(sharp(bytes).resize(Math.round(w * s), Math.round(h * s))), ext: 'jpg' };
    }
    case 'reencode':
      return rng.next() < 0.5
        ? { bytes: await jpeg(sharp(bytes), Math.round(rng.uniform(15, 50))), ext: 'jpg' }
        : {
            bytes: await sharp(bytes)
              .webp({ quality: Math.round(rng.uniform(30, 60)) })
              .toBuffer(),
            ext: 'webp',
          };
    case 'crop':
    case 'crop-small': {
      const area = kind === 'crop' ? rng.uniform(0.5, 0.9) : rng.uniform(0.2, 0.49);
      return { bytes: await jpeg(sharp(bytes).extract(cropBox(w, h, area, rng))), ext: 'jpg' };
    }
    case 'rotate': {
      const deg = rng.uniform(3, 12) * (rng.next() < 0.5 ? -1 : 1);
      const rotated = await sharp(bytes).rotate(deg, { background: '#000' }).toBuffer({ resolveWithObject: true });
      // The largest centred box of the original's aspect that the rotation leaves free of borders.
      const a = (Math.abs(deg) * Math.PI) / 180;
      const s = 1 / (Math.cos(a) + Math.sin(a) * Math.max(w / h, h / w));
      const cw = Math.floor(w * s);
      const ch = Math.floor(h * s);
      const box = { left: Math.floor((rotated.info.width - cw) / 2), top: Math.floor((rotated.info.height - ch) / 2), width: cw, height: ch };
      return { bytes: await jpeg(sharp(rotated.data).extract(box)), ext: 'jpg' };
    }
    case 'flip':
      return { bytes: await jpeg(sharp(bytes).flop()), ext: 'jpg' };
    case 'colour': {
      if (rng.next() < 0.2) return { bytes: await jpeg(sharp(bytes).greyscale()), ext: 'jpg' };
      const img = sharp(bytes).modulate({ brightness: rng.uniform(0.6, 1.4), saturation: rng.uniform(0.3, 1.7), hue: Math.round(rng.uniform(-40, 40)) });
      return { bytes: await jpeg(img), ext: 'jpg' };
    }
    case 'overlay': {
      const word = WORDS[rng.int(WORDS.length)]!;
      const size = Math.round(h * rng.uniform(0.08, 0.14));
      const y = Math.round(rng.uniform(size, h - 4));
      const colour = rng.next() < 0.5 ? '#fff' : '#ff0';
      const logo = Math.round(Math.min(w, h) * rng.uniform(0.12, 0.2));
      const lx = rng.next() < 0.5 ? 4 : w - logo - 4;
      const svg =
        `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}">` +
        `<text x="${Math.round(rng.uniform(2, w * 0.3))}" y="${y}" font-family="sans-serif" font-weight="bold" font-size="${size}" fill="${colour}" stroke="#000" stroke-width="1">${word}</text>` +
        `<g opacity="0.8"><circle cx="${lx + logo / 2}" cy="${4 + logo / 2}" r="${logo / 2}" fill="#c22"/>` +
        `<text x="${lx + logo / 2}" y="${4 + logo * 0.65}" text-anchor="middle" font-family="sans-serif" font-size="${Math.round(logo * 0.45)}" fill="#fff">V</text></g></svg>`;
      return { bytes: await jpeg(sharp(bytes).composite([{ input: Buffer.from(svg) }])), ext: 'jpg' };
    }
  }
}
