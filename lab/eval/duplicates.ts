import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Collection } from '../../src/collection.js';
import { DEFAULT_MIN_SIMILARITY, FeatureCache, duplicatesOfItem } from '../../src/duplicates/find-duplicates.js';
import type { IndexProgress } from '../../src/ingest/indexer.js';
import { Rng } from '../random.js';
import { loadFlickr8k } from './datasets.js';
import { EDIT_DESCRIPTIONS, EDIT_KINDS, editImage, type EditKind } from './duplicate-edits.js';

export interface DuplicatesEvalOptions {
  /** Keep the index here (re-runs then skip embedding); default: a folder under the system's temporary folder, kept. */
  db?: string;
  seed?: number;
  /** 'dev': copies of the dev photos among the train photos (for choosing settings); default 'test'. */
  split?: 'test' | 'dev';
  /** Use only this many originals and ~7× as many distractors (a quick run). */
  limit?: number;
  /** Also time grouping on a quarter and a half of the collection. */
  growth?: boolean;
  /** Called with the figures before the (long) growth timings start, so they are not lost if those are cut short. */
  onFigures?: (report: DuplicatesEvalReport) => void;
  onIndexProgress?: (p: IndexProgress) => void;
  onProgress?: (phase: string, done: number, total: number) => void;
}

export interface PairwiseFigures {
  precision: number;
  recall: number;
  /** Pairs predicted (in one group), true pairs, and predicted pairs that are true. */
  predicted: number;
  relevant: number;
  correct: number;
}

export interface DuplicatesEvalReport {
  protocol: string;
  seed: number;
  originals: number;
  distractors: number;
  copies: number;
  overall: PairwiseFigures;
  /** Over every kind except crops below half the image. */
  overallWithoutSmallCrops: PairwiseFigures;
  perKind: Array<{ kind: EditKind; edit: string; copies: number; recallAt1: number } & PairwiseFigures>;
  groups: number;
  checkedPairs: number;
  candidatePairs: number;
  /** Copies whose original is among their nearest neighbours kept as candidates (an upper bound on recall). */
  candidateRecall: number;
  skipped: number;
  seconds: { index: number; group: number; recall: number; growth?: GrowthPoint[] };
}

export interface GrowthPoint {
  items: number;
  seconds: number;
  candidates: number;
  checked: number;
}

const ratio = (a: number, b: number) => (b === 0 ? 1 : a / b);

/**
 * Near-duplicate benchmark: each Flickr8k test photo gets one seeded edited copy (the kinds in
 * equal numbers), and the 7,000 train+dev photos are distractors. The collection is indexed
 * as usual and grouped by `Collection.duplicates`; figures are pairwise precision and recall of
 * the groups (per kind: the pairs that involve a copy of that kind) and R@1 of the original
 * from its copy (the copy's surest duplicate, as `GET /api/items/{id}/duplicates` answers).
 */
export async function evalDuplicates(o: DuplicatesEvalOptions = {}): Promise<DuplicatesEvalReport> {
  const seed = o.seed ?? 1;
  const split = o.split ?? 'test';
  const { originals, distractors, copies, tag } = await benchmarkPictures({ seed, split, limit: o.limit, onProgress: o.onProgress });

  const db = o.db ?? path.join(os.tmpdir(), `visor-eval-duplicates-${tag}${o.limit ? `-l${o.limit}` : ''}-db`);
  const c = await Collection.open({ db, create: true });
  try {
    const t0 = performance.now();
    await c.index([...originals, ...distractors, ...copies.map((x) => x.file)], { facts: [], onProgress: o.onIndexProgress });
    const indexSeconds = (performance.now() - t0) / 1000;

    // Which picture each item shows: a copy shows its original's.
    const idOf = new Map((await c.store.fileStates()).map((s) => [s.path, s.id]));
    const picture = new Map<string, string>();
    for (const p of [...originals, ...distractors]) if (idOf.has(p)) picture.set(idOf.get(p)!, p);
    const kindOf = new Map<string, EditKind>();
    const originalOf = new Map<string, string>();
    for (const x of copies) {
      const id = idOf.get(x.file);
      const orig = idOf.get(x.original);
      if (!id || !orig) continue;
      picture.set(id, x.original);
      kindOf.set(id, x.kind);
      originalOf.set(id, orig);
    }

    const read = async (id: string) => fs.promises.readFile((await c.items([id]))[0]!.path);
    // One feature cache for grouping and R@1: each image's local features are computed once.
    const cache = new FeatureCache(read);
    const t1 = performance.now();
    const found = await c.duplicates({ cache, onProgress: (p) => o.onProgress?.(p.phase, p.done, p.total) });
    const groupSeconds = (performance.now() - t1) / 1000;

    // Pairwise figures: every pair inside a predicted group is predicted; true pairs are copy–original.
    const groups = found.groups.map((g) => g.items.map((i) => i.id));
    const count = (filter: (kind: EditKind | undefined, kind2: EditKind | undefined) => boolean) => pairwiseFigures(groups, picture, kindOf, filter);
    const overall = count(() => true);
    const overallWithoutSmallCrops = count((k1, k2) => k1 !== 'crop-small' && k2 !== 'crop-small');

    // R@1: the copy's surest duplicate among its neighbours is its original.
    const t2 = performance.now();
    const vectors = new Map((await c.store.getItemsWithVectors([...kindOf.keys()])).map((x) => [x.id, x.vector]));
    const hitsAt1 = new Map<EditKind, number>();
    let inCandidates = 0;
    let done = 0;
    for (const [id, kind] of kindOf) {
      const neighbours = async (_: string, k: number) => c.store.search(vectors.get(id)!, { k, exclude: new Set([id]) });
      const hits = await neighbours(id, 5);
      if (hits.some((h) => h.id === originalOf.get(id) && h.score >= DEFAULT_MIN_SIMILARITY)) inCandidates++;
      const top = (await duplicatesOfItem({ readImage: read, neighbours }, id, {}, cache).catch(() => []))[0];
      if (top?.id === originalOf.get(id)) hitsAt1.set(kind, (hitsAt1.get(kind) ?? 0) + 1);
      if (++done % 50 === 0) o.onProgress?.('R@1', done, kindOf.size);
    }
    const recallSeconds = (performance.now() - t2) / 1000;

    const perKind = EDIT_KINDS.map((kind) => {
      const n = [...kindOf.values()].filter((k) => k === kind).length;
      return { kind, edit: EDIT_DESCRIPTIONS[kind], copies: n, recallAt1: ratio(hitsAt1.get(kind) ?? 0, n), ...count((k1, k2) => k1 === kind || k2 === kind) };
    });

    const report: DuplicatesEvalReport = {
      protocol: `near-duplicate groups: ${copies.length} seeded edited copies of the Flickr8k ${split} photos (seed ${seed}) among ${originals.length} originals and ${distractors.length} ${split === 'test' ? 'train+dev' : 'train'} distractors`,
      seed,
      originals: originals.length,
      distractors: distractors.length,
      copies: kindOf.size,
      overall,
      overallWithoutSmallCrops,
      perKind,
      groups: found.groups.length,
      checkedPairs: found.checked,
      candidatePairs: found.candidates,
      candidateRecall: ratio(inCandidates, kindOf.size),
      skipped: found.skipped.length,
      seconds: { index: indexSeconds, group: groupSeconds, recall: recallSeconds },
    };
    if (o.growth) {
      o.onFigures?.(report);
      // The whole collection's grouping above (empty feature cache) is the last point.
      report.seconds.growth = [
        ...(await groupingGrowth(c, [0.25, 0.5], o.onProgress)),
        { items: found.items, seconds: groupSeconds, candidates: found.candidates, checked: found.checked },
      ];
    }
    return report;
  } finally {
    await c.close();
  }
}

/** Grouping time (and candidate and checked pairs) over the first given shares of the collection's rows: how it grows with size. */
export async function groupingGrowth(c: Collection, shares: number[], onProgress: DuplicatesEvalOptions['onProgress']): Promise<GrowthPoint[]> {
  const { findDuplicates } = await import('../../src/duplicates/find-duplicates.js');
  const all = await c.store.vectors();
  const out: GrowthPoint[] = [];
  for (const share of shares) {
    const n = Math.round(all.ids.length * share);
    const ids = all.ids.slice(0, n);
    const dim = all.matrix.length / all.ids.length;
    const matrix = all.matrix.subarray(0, n * dim);
    const keep = new Set(ids);
    const t = performance.now();
    const found = await findDuplicates({
      vectors: async () => ({ ids, matrix }),
      searchMany: async (q, count, opts) => c.store.searchMany(q, count, { ...opts, exclude: new Set(all.ids.slice(n)) }),
      readImage: async (id) => {
        if (!keep.has(id)) throw new Error('outside the subset');
        return fs.promises.readFile((await c.items([id]))[0]!.path);
      },
    });
    out.push({ items: n, seconds: (performance.now() - t) / 1000, candidates: found.candidates, checked: found.checked });
    onProgress?.(`growth: ${n} images ${out.at(-1)!.seconds.toFixed(1)} s, ${found.candidates} candidate pairs`, 1, 1);
  }
  return out;
}

/** The benchmark's pictures: originals, their seeded edited copies (made once, kept under the temporary folder), and distractors. */
export async function benchmarkPictures(o: {
  seed: number;
  split: 'test' | 'dev';
  limit?: number;
  onProgress?: DuplicatesEvalOptions['onProgress'];
}): Promise<{ originals: string[]; distractors: string[]; copies: BenchmarkCopy[]; tag: string }> {
  const { seed, split } = o;
  let originals = loadFlickr8k(split).images.map((i) => i.path);
  let distractors = [...loadFlickr8k('train').images, ...(split === 'test' ? loadFlickr8k('dev').images : [])].map((i) => i.path);
  if (o.limit) {
    originals = originals.slice(0, o.limit);
    distractors = distractors.slice(0, o.limit * 7);
  }
  // Kinds in equal numbers over the originals, in a seeded order.
  const order = originals.map((_, i) => i);
  const shuffle = new Rng(seed);
  for (let i = order.length - 1; i > 0; i--) {
    const j = shuffle.int(i + 1);
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  const tag = `s${seed}${split === 'dev' ? '-dev' : ''}`;
  const copiesDir = path.join(os.tmpdir(), `visor-eval-duplicates-${tag}`, 'copies');
  const copies: BenchmarkCopy[] = [];
  for (const [n, i] of order.entries()) {
    const original = originals[i]!;
    const kind = EDIT_KINDS[n % EDIT_KINDS.length]!;
    const base = path.join(copiesDir, kind, `${path.basename(original, path.extname(original))}-${kind}`);
    const existing = ['jpg', 'webp'].map((e) => `${base}.${e}`).find((f) => fs.existsSync(f));
    let file = existing;
    if (!file) {
      // Each copy's own generator: the same copy whatever else was generated before.
      const edit = await editImage(fs.readFileSync(original), kind, new Rng(seed * 1_000_003 + i));
      file = `${base}.${edit.ext}`;
      fs.mkdirSync(path.dirname(file), { recursive: true });
      fs.writeFileSync(file, edit.bytes);
    }
    copies.push({ file, original, kind });
    if (n % 100 === 0) o.onProgress?.('editing', n, originals.length);
  }
  return { originals, distractors, copies, tag };
}

export interface BenchmarkCopy {
  file: string;
  original: string;
  kind: EditKind;
}

/**
 * Pairwise figures of groups (item ids): every pair inside a group is predicted, and true when
 * both items show one picture; the true pairs are copy–original, one per copy. `filter` picks
 * the pairs counted by the copies' edit kinds (undefined: not a copy).
 */
export function pairwiseFigures(
  groups: readonly string[][],
  picture: ReadonlyMap<string, string>,
  kindOf: ReadonlyMap<string, EditKind>,
  filter: (kind: EditKind | undefined, kind2: EditKind | undefined) => boolean = () => true,
): PairwiseFigures {
  let predicted = 0;
  let correct = 0;
  for (const ids of groups)
    for (let a = 0; a < ids.length; a++)
      for (let b = a + 1; b < ids.length; b++) {
        if (!filter(kindOf.get(ids[a]!), kindOf.get(ids[b]!))) continue;
        predicted++;
        if (picture.get(ids[a]!) === picture.get(ids[b]!)) correct++;
      }
  let relevant = 0;
  for (const kind of kindOf.values()) if (filter(kind, undefined)) relevant++;
  return { precision: ratio(correct, predicted), recall: ratio(correct, relevant), predicted, relevant, correct };
}
