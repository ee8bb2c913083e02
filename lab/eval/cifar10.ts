import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Collection } from '../../src/collection.js';
import type { IndexProgress } from '../../src/ingest/indexer.js';
import { loadCifar10, type LabelledImage } from './datasets.js';
import { evaluateLabels } from '../../src/quality/labels-eval.js';

export interface Cifar10Options {
  /** Keep the index here (re-runs then skip embedding); default: a temporary folder. */
  db?: string;
  /** Evaluate on a class-balanced subset of this many images (default: all 10,000). */
  limit?: number;
  onIndexProgress?: (p: IndexProgress) => void;
  onSearchProgress?: (done: number, total: number) => void;
}

export interface Cifar10Report {
  protocol: string;
  queries: number;
  gallery: number;
  metrics: {
    /** mAP over the top 1000, normalised by the relevant items retrieved (deep-hashing convention). */
    mapAt1000: number;
    mapAll: number;
    precisionAt10: number;
    rPrecision: number;
    recallAt1: number;
  };
  precisionRecall: { recall: number[]; precision: number[] };
  seconds: { index: number; search: number; total: number };
  duplicateImages: number;
}

function balancedSubset(images: LabelledImage[], limit: number | undefined): LabelledImage[] {
  if (!limit || limit >= images.length) return images;
  const step = images.length / limit;
  return Array.from({ length: limit }, (_, i) => images[Math.floor(i * step)]!);
}

/**
 * The standard CIFAR-10 image→image protocol: every test image queries all the others,
 * relevant = same class. Runs through the normal path: the images are indexed as a catalogue,
 * then each query's whole ranking comes from the store's exact search.
 */
export async function evalCifar10(opts: Cifar10Options = {}): Promise<Cifar10Report> {
  const started = performance.now();
  const data = loadCifar10();
  const images = balancedSubset(data.images, opts.limit);
  const tmp = opts.db ? null : fs.mkdtempSync(path.join(os.tmpdir(), 'visor-eval-cifar10-'));
  const db = opts.db ?? tmp!;
  const catalogue = path.join(db + '.catalogue.csv');
  fs.writeFileSync(catalogue, ['path,label,label_name', ...images.map((im) => `${im.path},${im.label},${im.labelName}`)].join('\n'));
  const collection = await Collection.open({ db, create: true });
  try {
    const t0 = performance.now();
    await collection.index([catalogue], { onProgress: opts.onIndexProgress });
    const indexSeconds = (performance.now() - t0) / 1000;

    const t1 = performance.now();
    // The same protocol as `visor eval labels <catalogue> --label label`: one code path.
    const r = await evaluateLabels(
      collection.store,
      { labelOf: new Map(images.map((im) => [im.path, String(im.label)])), unlabelled: 0 },
      { label: 'label', mapAt: 1000, precisionAt: 10, onProgress: opts.onSearchProgress },
    );
    const searchSeconds = (performance.now() - t1) / 1000;
    return {
      protocol: 'CIFAR-10 test, image→image: each image queries the other images; relevant = same class; exact cosine',
      queries: r.queries,
      gallery: r.gallery,
      metrics: {
        mapAt1000: r.metrics.mapAtK,
        mapAll: r.metrics.mapAll,
        precisionAt10: r.metrics.precisionAtK,
        rPrecision: r.metrics.rPrecision,
        recallAt1: r.metrics.recallAt1,
      },
      precisionRecall: r.precisionRecall,
      seconds: { index: indexSeconds, search: searchSeconds, total: (performance.now() - started) / 1000 },
      duplicateImages: r.identicalFiles,
    };
  } finally {
    await collection.close();
    fs.rmSync(catalogue, { force: true });
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  }
}
