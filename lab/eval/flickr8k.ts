import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Collection } from '../../src/collection.js';
import type { IndexProgress } from '../../src/ingest/indexer.js';
import { JointModel } from '../../src/models/joint-model.js';
import { jointImageMatrix } from '../../src/search/joint-space.js';
import type { FusionMethod } from '../../src/search/fusion.js';
import type { SignalWeights } from '../../src/search/query.js';
import { ExactKernel } from '../../src/store/exact-kernel.js';
import { summarizeRanks, type CrossModalMetrics } from './cross-modal.js';
import { loadFlickr8k } from './datasets.js';

export interface Flickr8kOptions {
  /** The joint model (path or name). */
  textModel: string;
  /** Keep the index here (re-runs skip embedding); default: a temporary folder. */
  db?: string;
  /** 'test' (the standard 1k protocol) or 'dev' (model selection). */
  split?: 'test' | 'dev';
  /** Only the first n images of the split (smoke tests); the protocol uses all of them. */
  limit?: number;
  onIndexProgress?: (p: IndexProgress) => void;
  /**
   * Also rank the images for every caption through Collection.search, the joint model fused
   * with the other text signals (concepts, keywords): text→image only, full rankings (lean queries).
   */
  fused?: { weights?: Partial<SignalWeights>; fusion?: FusionMethod };
  onSearchProgress?: (done: number, total: number) => void;
}

export interface FusedReport {
  /** An image the fused ranking leaves out (no signal has evidence for it) counts as rank n + 1. */
  textToImage: CrossModalMetrics;
  depth: number;
  fusion: string;
  /** Per signal, the captions it understood (had evidence for). */
  understood: Record<string, number>;
}

export interface Flickr8kReport {
  protocol: string;
  model: { file: string; name: string; dimension: number };
  textToImage: CrossModalMetrics;
  imageToText: CrossModalMetrics;
  rsum: number;
  fused?: FusedReport;
  seconds: { index: number; encode: number; search: number; fused?: number; total: number };
}

/**
 * Flickr8k cross-modal retrieval through the normal path: the split's images are indexed by
 * Collection.index, their stored features and probabilities are read back and projected by the
 * joint model, and both directions are ranked in full by the exact search kernel.
 * Text→image: every caption queries the images, one relevant. Image→text: every image queries
 * all captions, a hit is any of its own five.
 */
export async function evalFlickr8k(opts: Flickr8kOptions): Promise<Flickr8kReport> {
  const started = performance.now();
  const split = opts.split ?? 'test';
  const all = loadFlickr8k(split);
  const data = { ...all, images: opts.limit ? all.images.slice(0, opts.limit) : all.images };
  const model = await JointModel.load(opts.textModel);
  const tmp = opts.db ? null : fs.mkdtempSync(path.join(os.tmpdir(), 'visor-eval-flickr8k-'));
  const db = opts.db ?? tmp!;
  const catalogue = `${db}.catalogue.csv`;
  fs.writeFileSync(catalogue, ['path', ...data.images.map((im) => `"${im.path.replace(/"/g, '""')}"`)].join('\n'));
  const collection = await Collection.open({ db, create: true });
  const kernel = await ExactKernel.create();
  try {
    const t0 = performance.now();
    await collection.index([catalogue], { onProgress: opts.onIndexProgress });
    const indexSeconds = (performance.now() - t0) / 1000;

    const t1 = performance.now();
    const images = await jointImageMatrix(collection.store, model);
    const rowOfId = new Map(images.ids.map((id, i) => [id, i]));
    const rowOfPath = new Map<string, number>();
    for (const s of await collection.store.fileStates()) {
      const r = rowOfId.get(s.id);
      if (r !== undefined) rowOfPath.set(s.path, r);
    }
    const captions: string[] = [];
    const captionRow: number[] = [];
    for (const im of data.images) {
      const row = rowOfPath.get(im.path);
      if (row === undefined) throw new Error(`${im.path} was not indexed`);
      for (const c of im.captions) {
        captions.push(c);
        captionRow.push(row);
      }
    }
    const text = model.encodeText(captions);
    const encodeSeconds = (performance.now() - t1) / 1000;

    const t2 = performance.now();
    const n = images.ids.length;
    // Each side's hubness bias (zeros for a model without query banks) is added to its cosines.
    const t2i = await kernel.topK(text, captions.length, images.matrix, n, images.bias, n);
    const t2iRanks = new Float64Array(captions.length);
    for (let q = 0; q < captions.length; q++) {
      for (let j = 0; j < t2i.k; j++) {
        if (t2i.rows[q * t2i.k + j] === captionRow[q]) {
          t2iRanks[q] = j + 1;
          break;
        }
      }
    }
    // Image → text: each image (row) queries every caption; its rank is that of its first caption.
    const i2t = await kernel.topK(images.matrix, n, text, captions.length, model.textBias(text, captions.length), captions.length);
    const i2tRanks = new Float64Array(n);
    for (let q = 0; q < n; q++) {
      for (let j = 0; j < i2t.k; j++) {
        if (captionRow[i2t.rows[q * i2t.k + j]!] === q) {
          i2tRanks[q] = j + 1;
          break;
        }
      }
    }
    const searchSeconds = (performance.now() - t2) / 1000;
    const a = summarizeRanks(t2iRanks);
    const b = summarizeRanks(i2tRanks);

    let fused: FusedReport | undefined;
    const t3 = performance.now();
    if (opts.fused) {
      collection.useTextModel(model.file);
      const ranks = new Float64Array(captions.length);
      const understood: Record<string, number> = {};
      let method = '';
      for (let q = 0; q < captions.length; q++) {
        const r = await collection.search({ text: captions[q], k: n, weights: opts.fused.weights, fusion: opts.fused.fusion, exact: true, lean: true });
        method = r.fusion;
        for (const s of r.signals) if (s.understood) understood[s.name] = (understood[s.name] ?? 0) + 1;
        const want = images.ids[captionRow[q]!];
        const at = r.results.findIndex((x) => x.id === want);
        ranks[q] = at >= 0 ? at + 1 : n + 1;
        opts.onSearchProgress?.(q + 1, captions.length);
      }
      fused = { textToImage: summarizeRanks(ranks), depth: n, fusion: opts.fused.fusion ?? method, understood };
    }
    const fusedSeconds = opts.fused ? (performance.now() - t3) / 1000 : undefined;
    return {
      protocol:
        `Flickr8k ${split === 'test' ? '1k test' : 'dev'}: text→image, ${captions.length} caption queries vs ${n} images (one relevant); ` +
        `image→text, ${n} image queries vs ${captions.length} captions (hit = any of its 5); recall in %`,
      model: { file: model.file, name: model.name, dimension: model.dimension },
      textToImage: a,
      imageToText: b,
      rsum: a.r1 + a.r5 + a.r10 + b.r1 + b.r5 + b.r10,
      fused,
      seconds: { index: indexSeconds, encode: encodeSeconds, search: searchSeconds, fused: fusedSeconds, total: (performance.now() - started) / 1000 },
    };
  } finally {
    await kernel.close();
    model.close();
    await collection.close();
    fs.rmSync(catalogue, { force: true });
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  }
}
