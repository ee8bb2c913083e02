import fs from 'node:fs';
import path from 'node:path';
import { parse } from 'csv-parse/sync';
import { resolvePaths, type VisorPaths } from '../../src/config.js';
import { VisorError } from '../../src/errors.js';

/** Finds a data set folder by name in the data sets search path. */
export function locateDataset(name: string, marker: string, paths: VisorPaths = resolvePaths()): string {
  for (const dir of paths.datasetsPath) {
    const d = path.join(dir, name);
    if (fs.existsSync(path.join(d, marker))) return d;
  }
  throw new VisorError(
    'DATASET_NOT_FOUND',
    `data set ${name} not found (${paths.datasetsPath.length ? `looked for ${name}/${marker} in: ${paths.datasetsPath.join(', ')}` : 'no data sets search path is set'}); ` +
      'set VISOR_DATASETS_PATH or datasetsPath in visor.config.json',
  );
}

export interface LabelledImage {
  /** Absolute path. */
  path: string;
  label: number;
  labelName: string;
}

/** CIFAR-10 test set: 10,000 images, `labels.csv` with path,label,label_name. */
export function loadCifar10(paths?: VisorPaths): { dir: string; catalogue: string; images: LabelledImage[]; classes: string[] } {
  const dir = locateDataset('cifar10-test', 'labels.csv', paths);
  const catalogue = path.join(dir, 'labels.csv');
  const rows = parse(fs.readFileSync(catalogue, 'utf8'), { columns: true, skip_empty_lines: true }) as Array<Record<string, string>>;
  const images = rows.map((r) => ({ path: path.resolve(dir, r.path!), label: Number(r.label), labelName: r.label_name! }));
  const classes: string[] = [];
  for (const im of images) classes[im.label] = im.labelName;
  return { dir, catalogue, images, classes };
}

export interface CaptionedImage {
  path: string;
  captions: string[];
}

/** Flickr8k split with 5 captions per image: 'test' (1k), 'train' (6k) or 'dev' (1k). */
export function loadFlickr8k(split: 'train' | 'dev' | 'test', paths?: VisorPaths): { dir: string; images: CaptionedImage[] } {
  const [name, file] = split === 'test' ? ['flickr8k-test1k', 'captions_test1k.csv'] : ['flickr8k-trainval', `captions_${split}.csv`];
  const dir = locateDataset(name!, file!, paths);
  const rows = parse(fs.readFileSync(path.join(dir, file!), 'utf8'), { columns: true, skip_empty_lines: true }) as Array<Record<string, string>>;
  const byImage = new Map<string, string[]>();
  for (const r of rows) {
    const p = path.join(dir, 'images', r.image!);
    const list = byImage.get(p) ?? [];
    list[Number(r.caption_idx ?? list.length)] = r.caption!;
    byImage.set(p, list);
  }
  return { dir, images: [...byImage].map(([p, captions]) => ({ path: p, captions: captions.filter((c) => c !== undefined) })) };
}
