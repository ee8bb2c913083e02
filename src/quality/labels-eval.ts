import path from 'node:path';
import { VisorError } from '../errors.js';
import { readCatalogue } from '../ingest/catalogue.js';
import type { CrawlProblem } from '../ingest/crawl.js';
import { metaColumnName } from '../store/columns.js';
import type { VectorStore } from '../store/port.js';
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
  /** The queries with the lowest average precision: each with its top results and relevant images it ranked low. */
  worstQueries: Array<{ path: string; label: string; ap: number; top: Array<{ path: string; label: string }>; missed: string[] }>;
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
  opts: { label: string; mapAt?: number; precisionAt?: number; skipped?: CrawlProblem[]; onProgress?: (done: number, total: number) => void },
): Promise<LabelsEvalReport> {
  const mapAt = opts.mapAt ?? 1000;
  const pAt = opts.precisionAt ?? 10;
  const { ids, matrix } = await store.vectors();
  const dim = store.dimension;
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
  const rows = ids.map((id, i) => (pathsOf.has(id) ? i : -1)).filter((i) => i >= 0);
  for (let start = 0; start < rows.length; start += chunk) {
    const part = rows.slice(start, start + chunk);
    const q = new Float32Array(part.length * dim);
    part.forEach((r, i) => q.set(matrix.subarray(r * dim, (r + 1) * dim), i * dim));
    const hits = await store.searchMany(q, part.length, { k: ids.length, exact: true });
    for (let n = 0; n < part.length; n++) {
      for (const queryPath of pathsOf.get(ids[part[n]!]!)!) {
        const label = data.labelOf.get(queryPath)!;
        const total = perLabel.get(label)! - 1;
        if (total < 1) continue;
        const relevant = new Uint8Array(gallery);
        let r = 0;
        for (let j = 0; j < hits.k && r < gallery; j++) {
          const id = hits.ids[hits.rows[n * hits.k + j]!];
          for (const p of (id !== undefined && pathsOf.get(id)) || []) {
            if (p === queryPath) continue;
            relevant[r++] = data.labelOf.get(p) === label ? 1 : 0;
          }
        }
        const q = { relevant, totalRelevant: total, label };
        queries.push(q);
        const ap = averagePrecision(q);
        if (worst.length < WORST || ap < worst[worst.length - 1]!.ap) {
          // Its first results, and the relevant images not among its first results (the ones it missed).
          const top: string[] = [];
          for (let j = 0; j < hits.k && top.length < Math.max(pAt, STRIP); j++) {
            const id = hits.ids[hits.rows[n * hits.k + j]!];
            for (const p of (id !== undefined && pathsOf.get(id)) || []) if (p !== queryPath) top.push(p);
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
    opts.onProgress?.(Math.min(start + chunk, rows.length), rows.length);
  }
  const s = summarize(queries, { ks: [1, pAt, mapAt], mapAt: [mapAt] });
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
  };
}
