import path from 'node:path';
import { VisorError } from '../errors.js';
import { readCatalogue } from '../ingest/catalogue.js';
import type { CrawlProblem } from '../ingest/crawl.js';
import { metaColumnName } from '../store/columns.js';
import type { VectorStore } from '../store/port.js';
import type { ClassifierAccuracy } from './classifier-eval.js';
import type { ZeroShotFigures } from './zero-shot-eval.js';
import { averagePrecision, precisionAtK, precisionRecallCurve, summarize, type RankedQuery } from './metrics.js';

/** A labelled catalogue: each image's label, and what was left out before measuring. */
export interface LabelledImages {
  /** Absolute path → label. */
  labelOf: Map<string, string>;
  /** Rows with no value in the label column. */
  unlabelled: number;
}

/** Reads the label column of a catalogue (CATALOGUE_INVALID, naming the columns there are, when it has none such). */
export async function readLabels(catalogue: string, column: string): Promise<LabelledImages> {
  const cat = await readCatalogue(catalogue);
  const name = metaColumnName(column);
  if (!(name in cat.columns)) {
    const have = Object.keys(cat.columns);
    throw new VisorError(
      'CATALOGUE_INVALID',
      `${catalogue}: no column "${column}" to take labels from (${have.length ? `columns: ${have.join(', ')}` : 'it has no columns besides the image path'})`,
    );
  }
  const labelOf = new Map<string, string>();
  let unlabelled = 0;
  for (const e of cat.entries) {
    const v = e.meta[name];
    if (v === null || v === undefined || String(v).trim() === '') unlabelled++;
    else labelOf.set(path.resolve(e.path), String(v));
  }
  return { labelOf, unlabelled };
}

export interface LabelsEvalReport {
  label: string;
  /** Images that queried (their label has at least one other image), and the gallery each searched. */
  queries: number;
  gallery: number;
  labels: number;
  k: { map: number; precision: number };
  metrics: { mapAtK: number; mapAll: number; precisionAtK: number; rPrecision: number; recallAt1: number; recallAtK: number };
  /** Per label, the worst (lowest mAP) first. */
  perLabel: Array<{ label: string; images: number; map: number; precisionAtK: number }>;
  precisionRecall: { recall: number[]; precision: number[] };
  /** What could not be measured, and why. */
  leftOut: {
    /** Catalogue rows with no label. */
    unlabelled: number;
    /** Labels with a single image: nothing else is relevant to it, so it queries nothing. */
    singleImageLabels: string[];
    /** Images that are not in the index (missing, unreadable or corrupt files), with the reason where known. */
    notIndexed: CrawlProblem[];
  };
  /** Identical files are stored once: images beyond the first of such content. */
  identicalFiles: number;
  /** The figures over the queries of `subset`, when one was given. */
  subset?: { queries: number; mapAtK: number; precisionAtK: number };
  /** The queries with the lowest average precision: each with its top results and relevant images it ranked low. */
  worstQueries: Array<{ path: string; label: string; ap: number; top: Array<{ path: string; label: string }>; missed: string[] }>;
  /** The category classifier's cross-validated accuracy and confusion matrix (absent when not asked for). */
  classifier?: ClassifierAccuracy | { notMeasured: string };
  /** The label names as text queries (absent when not asked for). */
  zeroShot?: ZeroShotFigures;
}

/** How many of the worst queries the report keeps, and images shown for each. */
const WORST = 8;
const STRIP = 6;

/**
 * Every labelled image queries all the others (exact cosine over the store's vectors), relevant =
 * same label: mAP@K and mAP over the whole ranking, P@K, R-Precision, Recall@K, per-label mAP.
 * Identical files are stored once and expanded back to each of their paths.
 */
export async function evaluateLabels(
  store: Pick<VectorStore, 'vectors' | 'searchMany' | 'fileStates' | 'dimension'>,
  data: LabelledImages,
  opts: {
    label: string;
    mapAt?: number;
    precisionAt?: number;
    skipped?: CrawlProblem[];
    onProgress?: (done: number, total: number) => void;
    /** Ranks indexed items for each query item (default: the store's exact cosine over all items). */
    rank?: Ranker;
    /** Queries whose figures are also reported apart (e.g. those no setting was chosen on). */
    subset?: ReadonlySet<string>;
  },
): Promise<LabelsEvalReport> {
  const mapAt = opts.mapAt ?? 1000;
  const pAt = opts.precisionAt ?? 10;
  const { ids } = await store.vectors();
  const rank = opts.rank ?? exactRanker(store);
  const pathsOf = new Map<string, string[]>();
  const indexed = new Set<string>();
  for (const s of await store.fileStates()) {
    if (!data.labelOf.has(s.path)) continue;
    indexed.add(s.path);
    const list = pathsOf.get(s.id) ?? [];
    list.push(s.path);
    pathsOf.set(s.id, list);
  }
  const reasons = new Map((opts.skipped ?? []).map((p) => [path.resolve(p.path), p.reason]));
  const notIndexed = [...data.labelOf.keys()].filter((p) => !indexed.has(p)).map((p) => ({ path: p, reason: reasons.get(p) ?? 'not in the index' }));
  const perLabel = new Map<string, number>();
  for (const p of indexed) perLabel.set(data.labelOf.get(p)!, (perLabel.get(data.labelOf.get(p)!) ?? 0) + 1);
  const single = [...perLabel].filter(([, n]) => n < 2).map(([l]) => l);
  const gallery = indexed.size - 1;
  const queries: Array<RankedQuery & { label: string }> = [];
  const worst: LabelsEvalReport['worstQueries'] = [];
  const pathsByLabel = new Map<string, string[]>();
  for (const p of indexed) pathsByLabel.set(data.labelOf.get(p)!, [...(pathsByLabel.get(data.labelOf.get(p)!) ?? []), p]);
  const chunk = 256;
  const subset: Array<RankedQuery> = [];
  const queryIds = ids.filter((id) => pathsOf.has(id));
  for (let start = 0; start < queryIds.length; start += chunk) {
    const part = queryIds.slice(start, start + chunk);
    const rankings = await rank(part, ids.length);
    for (let n = 0; n < part.length; n++) {
      // The query's own item first: its other files (identical content) are its first results.
      const ranking = rankings[n]![0] === part[n] ? rankings[n]! : [part[n]!, ...rankings[n]!.filter((id) => id !== part[n])];
      for (const queryPath of pathsOf.get(part[n]!)!) {
        const label = data.labelOf.get(queryPath)!;
        const total = perLabel.get(label)! - 1;
        if (total < 1) continue;
        const relevant = new Uint8Array(gallery);
        let r = 0;
        for (let j = 0; j < ranking.length && r < gallery; j++) {
          for (const p of pathsOf.get(ranking[j]!) ?? []) {
            if (p === queryPath || r >= gallery) continue;
            relevant[r++] = data.labelOf.get(p) === label ? 1 : 0;
          }
        }
        const q = { relevant, totalRelevant: total, label };
        queries.push(q);
        if (opts.subset?.has(queryPath)) subset.push(q);
        const ap = averagePrecision(q);
        if (worst.length < WORST || ap < worst[worst.length - 1]!.ap) {
          // Its first results, and the relevant images not among its first results (the ones it missed).
          const top: string[] = [];
          for (let j = 0; j < ranking.length && top.length < Math.max(pAt, STRIP); j++) {
            for (const p of pathsOf.get(ranking[j]!) ?? []) if (p !== queryPath) top.push(p);
          }
          const shown = new Set(top.slice(0, pAt));
          const missed = pathsByLabel
            .get(label)!
            .filter((p) => p !== queryPath && !shown.has(p))
            .slice(0, STRIP);
          worst.push({ path: queryPath, label, ap, top: top.slice(0, STRIP).map((p) => ({ path: p, label: data.labelOf.get(p)! })), missed });
          worst.sort((a, b) => a.ap - b.ap);
          worst.length = Math.min(worst.length, WORST);
        }
      }
    }
    opts.onProgress?.(Math.min(start + chunk, queryIds.length), queryIds.length);
  }
  const s = summarize(queries, { ks: [1, pAt, mapAt], mapAt: [mapAt] });
  const sub = subset.length ? summarize(subset, { ks: [pAt], mapAt: [mapAt] }) : null;
  const byLabel = new Map<string, Array<RankedQuery>>();
  for (const q of queries) byLabel.set(q.label, [...(byLabel.get(q.label) ?? []), q]);
  const perLabelFigures = [...byLabel]
    .map(([label, qs]) => ({
      label,
      images: qs.length,
      map: qs.reduce((a, q) => a + averagePrecision(q), 0) / qs.length,
      precisionAtK: qs.reduce((a, q) => a + precisionAtK(q, pAt), 0) / qs.length,
    }))
    .sort((a, b) => a.map - b.map || a.label.localeCompare(b.label));
  return {
    label: opts.label,
    queries: queries.length,
    gallery,
    labels: perLabel.size,
    k: { map: mapAt, precision: pAt },
    metrics: {
      mapAtK: queries.length ? s.mapAt[mapAt]! : 0,
      mapAll: queries.length ? s.mapAll : 0,
      precisionAtK: queries.length ? s.precisionAtK[pAt]! : 0,
      rPrecision: queries.length ? s.rPrecision : 0,
      recallAt1: queries.length ? s.recallAtK[1]! : 0,
      recallAtK: queries.length ? s.recallAtK[mapAt]! : 0,
    },
    perLabel: perLabelFigures,
    precisionRecall: queries.length ? precisionRecallCurve(queries) : { recall: [], precision: [] },
    leftOut: { unlabelled: data.unlabelled, singleImageLabels: single, notIndexed },
    identicalFiles: indexed.size - pathsOf.size,
    worstQueries: worst,
    ...(opts.subset ? { subset: { queries: subset.length, mapAtK: sub?.mapAt[mapAt] ?? 0, precisionAtK: sub?.precisionAtK[pAt] ?? 0 } } : {}),
  };
}

/**
 * How the queries are ranked: for each query item (by id), the indexed items from the best
 * match down, at most k of them. Mean average precision needs the whole ranking, so k is the
 * collection's size unless a protocol looks at fewer.
 */
export type Ranker = (queryIds: readonly string[], k: number) => Promise<string[][]>;

/** The store's exact cosine ranking, queries batched. */
export function exactRanker(store: Pick<VectorStore, 'vectors' | 'searchMany' | 'dimension'>): Ranker {
  return async (queryIds, k) => {
    const { ids, matrix } = await store.vectors();
    const dim = store.dimension;
    const rowOf = new Map(ids.map((id, i) => [id, i]));
    const q = new Float32Array(queryIds.length * dim);
    queryIds.forEach((id, i) => {
      const r = rowOf.get(id)!;
      q.set(matrix.subarray(r * dim, (r + 1) * dim), i * dim);
    });
    const hits = await store.searchMany(q, queryIds.length, { k: Math.min(k, ids.length), exact: true });
    return queryIds.map((_, n) => {
      const out: string[] = [];
      for (let j = 0; j < hits.k; j++) {
        const id = hits.ids[hits.rows[n * hits.k + j]!];
        if (id !== undefined) out.push(id);
      }
      return out;
    });
  };
}
