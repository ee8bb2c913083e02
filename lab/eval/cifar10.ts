import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Collection } from '../../src/collection.js';
import type { IndexProgress } from '../../src/ingest/indexer.js';
import { loadCifar10, type LabelledImage } from './datasets.js';
import { precisionRecallCurve, summarize, type RankedQuery } from './metrics.js';
import type { RerankMethod } from '../../src/search/neighbours/rerankers.js';

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
 * then each query's whole ranking comes from the store's exact search.
 */
export async function evalCifar10(opts: Cifar10Options = {}): Promise<Cifar10Report> {
  const started = performance.now();
  const data = loadCifar10();
  const images = balancedSubset(data.images, opts.limit);
  const labelOf = new Map(images.map((im) => [im.path, im.label]));
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
    const store = collection.store;
    const { ids } = await store.vectors();
    // Identical files are stored once: expand each item back to its images.
    const pathsOf = new Map<string, string[]>();
    for (const s of await store.fileStates()) {
      if (!labelOf.has(s.path)) continue;
      const list = pathsOf.get(s.id) ?? [];
      list.push(s.path);
      pathsOf.set(s.id, list);
    }
    // An index made before the graph, or by a collection whose default uses none, gets it now.
    if (opts.rerank === 'dba' || opts.rerank === 'diffusion') await (await collection.neighbourGraph()).refresh({ force: true });
    const tuning = new Set(data.images.filter((_, i) => isTuningQuery(i)).map((im) => im.path));
    const perClass = new Map<number, number>();
    for (const im of images) perClass.set(im.label, (perClass.get(im.label) ?? 0) + 1);
    const gallery = images.length - 1;
    const queries: RankedQuery[] = [];
    const heldOut: RankedQuery[] = [];
    const stages = opts.rerank ? { neighbours: opts.rerank === 'none' ? false : { method: opts.rerank } } : undefined;
    const rerank = opts.rerank ?? (await collection.neighbourGraph()).defaults().image;
    // Each query is an indexed item through the normal search path (its ranking, ids only), a few in flight.
    const k = Math.min(ids.length, opts.ranked ?? ids.length);
    const inFlight = 4;
    const answers = new Map<number, ReturnType<typeof collection.search>>();
    const ask = (q: number) => collection.search({ images: [{ id: ids[q]! }], excludeSelf: true, k, lean: true, exact: true, ...(stages ? { stages } : {}) });
    for (let q = 0; q < Math.min(inFlight, ids.length); q++) answers.set(q, ask(q));
    for (let q = 0; q < ids.length; q++) {
      const { results } = await answers.get(q)!;
      answers.delete(q);
      if (q + inFlight < ids.length) answers.set(q + inFlight, ask(q + inFlight));
      for (const queryPath of pathsOf.get(ids[q]!) ?? []) {
        const label = labelOf.get(queryPath)!;
        const relevant = new Uint8Array(gallery);
        let r = 0;
        // The query's own content (and its duplicates) was excluded: its other files come first.
        for (const p of pathsOf.get(ids[q]!)!) if (p !== queryPath && r < gallery) relevant[r++] = labelOf.get(p) === label ? 1 : 0;
        for (let j = 0; j < results.length && r < gallery; j++) {
          for (const p of pathsOf.get(results[j]!.id) ?? []) {
            if (p === queryPath || r >= gallery) continue;
            relevant[r++] = labelOf.get(p) === label ? 1 : 0;
          }
        }
        const ranked = { relevant, totalRelevant: perClass.get(label)! - 1 };
        queries.push(ranked);
        if (!tuning.has(queryPath)) heldOut.push(ranked);
      }
      if ((q + 1) % 256 === 0 || q + 1 === ids.length) opts.onSearchProgress?.(q + 1, ids.length);
    }
    const s = summarize(queries, { ks: [1, 10], mapAt: [1000] });
    const h = summarize(heldOut, { ks: [10], mapAt: [1000] });
    const searchSeconds = (performance.now() - t1) / 1000;
    return {
      protocol: `CIFAR-10 test, image→image: each image queries the other images through Collection.search; relevant = same class; exact cosine, re-ranked: ${rerank}`,
      queries: queries.length,
      gallery,
      metrics: {
        mapAt1000: s.mapAt[1000]!,
        mapAll: k < ids.length ? null : s.mapAll,
        precisionAt10: s.precisionAtK[10]!,
        rPrecision: k < ids.length ? null : s.rPrecision,
        recallAt1: s.recallAtK[1]!,
      },
      heldOut: { queries: heldOut.length, mapAt1000: h.mapAt[1000]!, precisionAt10: h.precisionAtK[10]! },
      rerank,
      precisionRecall: precisionRecallCurve(queries),
      seconds: { index: indexSeconds, search: searchSeconds, total: (performance.now() - started) / 1000 },
      duplicateImages: images.length - ids.length,
    };
  } finally {
    await collection.close();
    fs.rmSync(catalogue, { force: true });
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  }
}
