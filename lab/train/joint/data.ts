import fs from 'node:fs';
import path from 'node:path';
import { parse } from 'csv-parse/sync';
import { VisorError } from '../../../src/errors.js';
import type { CaptionedImage } from '../../eval/datasets.js';

/**
 * Reads a captions file: CSV with a header naming an image column (`image`, `file`, `path`,
 * `filename`) and a `caption` column, one caption per row (Flickr8k's files, the Kaggle
 * `image,caption` layout). Image names are relative to `imagesDir` (default: the file's folder,
 * then its `images/` subfolder).
 */
export function readCaptionsCsv(file: string, imagesDir?: string): CaptionedImage[] {
  let rows: Array<Record<string, string>>;
  try {
    rows = parse(fs.readFileSync(file, 'utf8'), {
      columns: (h: string[]) => h.map((c) => c.trim().toLowerCase()),
      skip_empty_lines: true,
      bom: true,
      relax_quotes: true,
    }) as Array<Record<string, string>>;
  } catch (e) {
    throw new VisorError('CATALOGUE_INVALID', `cannot read captions ${file}: ${(e as Error).message}`, { cause: e });
  }
  const imageKey = ['image', 'file', 'path', 'filename'].find((k) => rows[0] && k in rows[0]);
  if (!imageKey || !rows[0] || !('caption' in rows[0])) {
    throw new VisorError('CATALOGUE_INVALID', `${file}: expected columns image (or file/path/filename) and caption`);
  }
  const base = imagesDir ?? (fs.existsSync(path.join(path.dirname(file), 'images')) ? path.join(path.dirname(file), 'images') : path.dirname(file));
  const byImage = new Map<string, string[]>();
  for (const r of rows) {
    const name = r[imageKey]!.replace(/#\d+$/, ''); // Flickr's "name.jpg#0" form
    const caption = (r.caption ?? '').trim();
    if (!name || !caption) continue;
    const p = path.resolve(base, name);
    const list = byImage.get(p) ?? [];
    list.push(caption);
    byImage.set(p, list);
  }
  return [...byImage].map(([p, captions]) => ({ path: p, captions }));
}

/** Images with their captions flattened: caption c belongs to image captionImage[c]. */
export interface PairedSet {
  images: string[];
  captions: string[];
  captionImage: Int32Array;
}

export function pairedSet(items: readonly CaptionedImage[]): PairedSet {
  const captions: string[] = [];
  const owner: number[] = [];
  items.forEach((it, i) => {
    for (const c of it.captions) {
      captions.push(c);
      owner.push(i);
    }
  });
  return { images: items.map((it) => it.path), captions, captionImage: Int32Array.from(owner) };
}

export function shuffle<T>(xs: T[], rand: () => number): T[] {
  for (let i = xs.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [xs[i], xs[j]] = [xs[j]!, xs[i]!];
  }
  return xs;
}

/**
 * One epoch of (image, caption) batches: every caption once, and no image twice in a batch, so
 * every other pair in a batch is a true negative. Each round visits all images in a new order
 * with a different one of their captions.
 */
export function epochBatches(set: PairedSet, batchSize: number, rand: () => number): Int32Array[] {
  const captionsOf: number[][] = Array.from({ length: set.images.length }, () => []);
  set.captionImage.forEach((im, c) => captionsOf[im]!.push(c));
  for (const list of captionsOf) shuffle(list, rand);
  const rounds = Math.max(...captionsOf.map((l) => l.length));
  const batches: Int32Array[] = [];
  for (let r = 0; r < rounds; r++) {
    const order = shuffle(
      captionsOf.map((_, i) => i).filter((i) => captionsOf[i]!.length > 0),
      rand,
    );
    for (let s = 0; s < order.length; s += batchSize) {
      const part = order.slice(s, s + batchSize);
      if (part.length < Math.min(batchSize, 8)) continue; // too few negatives to learn from
      batches.push(Int32Array.from(part.map((i) => captionsOf[i]![r % captionsOf[i]!.length]!)));
    }
  }
  return batches;
}
