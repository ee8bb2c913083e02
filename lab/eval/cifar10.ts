import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Collection } from '../../src/collection.js';
import type { IndexProgress } from '../../src/ingest/indexer.js';
import { loadCifar10, type LabelledImage } from './datasets.js';
import { evaluateLabels, type Ranker } from '../../src/quality/labels-eval.js';
import { readsGraph, type RerankMethod } from '../../src/search/neighbours/rerankers.js';

export interface Cifar10Options {
  /** Keep the index here (re-runs then skip embedding); default: a temporary folder. */
  db?: string;
  /** Evaluate on a class-balanced subset of this many images (default: all 10,000). */
  limit?: number;
  onIndexProgress?: (p: IndexProgress) => void;
  onSearchProgress?: (done: number, total: number) => void;
  /** Re-rank with this method rather than the collection's default for image queries (docs/reranking.md). */
  rerank?: RerankMethod;
  /** Rank each query's first n results only (default: all): mAP@all and R-precision are then left out. */
  ranked?: number;
}

/**
 * Whether the image at this labels.csv index is one of the 1,000 tuning queries the re-ranking
 * parameters were chosen on (every tenth image: about 100 per class); `heldOut` leaves them out.
 */
export const isTuningQuery = (index: number): boolean => index % 10 === 0;

export interface Cifar10Report {
  protocol: string;
  queries: number;
  gallery: number;
  metrics: {
    /** mAP over the top 1000, normalised by the relevant items retrieved (deep-hashing convention). */
    mapAt1000: number;
    mapAll: number | null;
    precisionAt10: number;
    rPrecision: number | null;
    recallAt1: number;
  };
  /** The same over the queries the re-ranking parameters were not chosen on (all but the 1,000 tuning ones). */
  heldOut: { queries: number; mapAt1000: number; precisionAt10: number };
  /** How the ranking was re-ranked (the collection's default unless the run said). */
  rerank: string;
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
 * then each query's whole ranking comes from the store's exact search, the protocol of `visor
 * eval labels`; with re-ranking, each query goes through Collection.search instead.
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
    // An index made before the graph, or by a collection whose default uses none, gets it now.
    if (readsGraph(opts.rerank)) await (await collection.neighbourGraph()).refresh({ force: true });
    const rerank = opts.rerank ?? (await collection.neighbourGraph()).defaults().image;
    const partial = opts.ranked !== undefined && opts.ranked < images.length;
    const rank = rerank === 'none' && !partial ? undefined : searchRanker(collection, opts.rerank, opts.ranked);
    const tuning = new Set(data.images.filter((_, i) => isTuningQuery(i)).map((im) => im.path));
    // The same protocol as `visor eval labels <catalogue> --label label`: one code path.
    const r = await evaluateLabels(
      collection.store,
      { labelOf: new Map(images.map((im) => [im.path, String(im.label)])), unlabelled: 0 },
      {
        label: 'label',
        mapAt: 1000,
        precisionAt: 10,
        onProgress: opts.onSearchProgress,
        rank,
        subset: new Set(images.map((im) => im.path).filter((p) => !tuning.has(p))),
      },
    );
    const searchSeconds = (performance.now() - t1) / 1000;
    return {
      protocol: `CIFAR-10 test, image→image: each image queries the other images; relevant = same class; exact cosine, re-ranked: ${rerank}`,
      queries: r.queries,
      gallery: r.gallery,
      metrics: {
        mapAt1000: r.metrics.mapAtK,
        mapAll: partial ? null : r.metrics.mapAll,
        precisionAt10: r.metrics.precisionAtK,
        rPrecision: partial ? null : r.metrics.rPrecision,
        recallAt1: r.metrics.recallAt1,
      },
      heldOut: { queries: r.subset!.queries, mapAt1000: r.subset!.mapAtK, precisionAt10: r.subset!.precisionAtK },
      rerank,
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

/** Each query an indexed item through Collection.search (its ranking, ids only), a few in flight. */
function searchRanker(collection: Collection, rerank: RerankMethod | undefined, ranked: number | undefined): Ranker {
  const stages = rerank ? { neighbours: rerank === 'none' ? (false as const) : { method: rerank } } : undefined;
  return async (queryIds, k) => {
    const depth = Math.min(k, ranked ?? k);
    const out: string[][] = new Array<string[]>(queryIds.length);
    const inFlight = 4;
    let next = 0;
    const worker = async () => {
      for (let q = next++; q < queryIds.length; q = next++) {
        const { results } = await collection.search({
          images: [{ id: queryIds[q]! }],
          excludeSelf: true,
          k: depth,
          lean: true,
          exact: true,
          ...(stages ? { stages } : {}),
        });
        out[q] = results.map((h) => h.id);
      }
    };
    await Promise.all(Array.from({ length: inFlight }, worker));
    return out;
  };
}
