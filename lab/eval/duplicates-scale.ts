import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Collection } from '../../src/collection.js';
import { findDuplicates, type DuplicateFinding } from '../../src/duplicates/find-duplicates.js';
import type { IndexProgress } from '../../src/ingest/indexer.js';
import { loadCifar10 } from './datasets.js';
import { benchmarkPictures, pairwiseFigures, type PairwiseFigures } from './duplicates.js';
import type { EditKind } from './duplicate-edits.js';
import { loadLfw } from './lfw.js';
import { EXTRA_SOURCES, planScaleSizes, shortMessage, type BaseCollection, type ScaleSize } from './duplicates-scale-plan.js';

export interface ScalePoint extends ScaleSize {
  /** Images grouped (`images` is the size asked for; fewer when some could not be indexed). */
  grouped: number;
  seconds: number;
  candidates: number;
  checked: number;
  groups: number;
  skipped: number;
  /** Pairwise precision and recall of the groups at this size (true pairs: copy–original). */
  overall: PairwiseFigures;
  overallWithoutSmallCrops: PairwiseFigures;
  /** The pairs found that are not copy and original (paths), to look at: a distractor set may hold copies of its own. */
  wrongPairs: Array<[string, string]>;
}

export interface DuplicatesScaleReport {
  protocol: string;
  seed: number;
  base: BaseCollection;
  /** Extra distractors here, by source. */
  extras: Record<(typeof EXTRA_SOURCES)[number], number>;
  sizes: ScaleSize[];
  points: ScalePoint[];
  /** Requested sizes not measured, and why. */
  short: string[];
  seconds: { index: number };
}

export interface DuplicatesScaleOptions {
  db?: string;
  seed?: number;
  limit?: number;
  scales: number[];
  /** Called with each size's figures as soon as they are measured (a long run keeps what it printed). */
  onPoint?: (p: ScalePoint) => void;
  onPlan?: (sizes: ScaleSize[], short: string[]) => void;
  onIndexProgress?: (p: IndexProgress) => void;
  onProgress?: (phase: string, done: number, total: number) => void;
}

/** The extra distractors in their fixed order: LFW as labels.csv lists it, then CIFAR-10 as its labels.csv lists it. */
export function extraDistractors(): Record<(typeof EXTRA_SOURCES)[number], string[]> {
  const lfw = loadLfw();
  return { lfw: lfw.images.map((p) => path.resolve(lfw.dir, p)), cifar10: loadCifar10().images.map((i) => i.path) };
}

/**
 * Grouping time and quality as the collection grows: the benchmark collection (Flickr8k test
 * photos, one seeded edited copy of each, the train+dev photos as distractors) at each requested
 * multiple of its size, the added distractors being real pictures of other data sets. The whole
 * is indexed once; each size is grouped on its own images only (the others are left out of the
 * neighbour search and never read), from an empty feature cache, as `Collection.duplicates`
 * would group a collection of just those images.
 */
export async function evalDuplicatesScale(o: DuplicatesScaleOptions): Promise<DuplicatesScaleReport> {
  const seed = o.seed ?? 1;
  const { originals, distractors, copies, tag } = await benchmarkPictures({ seed, split: 'test', limit: o.limit, onProgress: o.onProgress });
  const extraPaths = extraDistractors();
  const extras = { lfw: extraPaths.lfw.length, cifar10: extraPaths.cifar10.length };
  const base = { originals: originals.length, copies: copies.length, flickrDistractors: distractors.length };
  const sizes = planScaleSizes(base, extras, o.scales);
  const short = sizes.filter((s) => s.short !== undefined).map((s) => shortMessage(s, sizes));
  o.onPlan?.(sizes, short);
  const measured = sizes.filter((s) => s.short === undefined);
  const largest = measured.at(-1);
  const distractorsOf = (s: ScaleSize) => [...distractors, ...extraPaths.lfw.slice(0, s.distractors.lfw), ...extraPaths.cifar10.slice(0, s.distractors.cifar10)];

  // Its own index: the plain benchmark's would otherwise hold the extra distractors too.
  const db = o.db ?? path.join(os.tmpdir(), `visor-eval-duplicates-${tag}${o.limit ? `-l${o.limit}` : ''}-scale-db`);
  const c = await Collection.open({ db, create: true });
  try {
    const t0 = performance.now();
    if (largest) await c.index([...originals, ...copies.map((x) => x.file), ...distractorsOf(largest)], { facts: [], onProgress: o.onIndexProgress });
    const indexSeconds = (performance.now() - t0) / 1000;

    const states = await c.store.fileStates();
    const idOf = new Map(states.map((s) => [s.path, s.id]));
    const pathOf = new Map(states.map((s) => [s.id, s.path]));
    const kindOf = new Map<string, EditKind>();
    const picture = new Map<string, string>();
    for (const p of originals) if (idOf.has(p)) picture.set(idOf.get(p)!, p);
    for (const x of copies) {
      const id = idOf.get(x.file);
      if (!id || !idOf.has(x.original)) continue;
      picture.set(id, x.original);
      kindOf.set(id, x.kind);
    }
    const all = await c.store.vectors();
    const points: ScalePoint[] = [];
    for (const size of measured) {
      const members = new Set<string>();
      for (const p of [...originals, ...copies.map((x) => x.file), ...distractorsOf(size)]) {
        const id = idOf.get(p);
        if (id === undefined) continue;
        members.add(id);
        // A distractor shows its own picture (a file stored twice is one item).
        if (!picture.has(id)) picture.set(id, p);
      }
      const t = performance.now();
      const found = await groupSubset(c, all, members, o.onProgress);
      const seconds = (performance.now() - t) / 1000;
      const groups = found.groups.map((g) => g.ids);
      const point: ScalePoint = {
        ...size,
        grouped: found.items,
        seconds,
        candidates: found.candidates,
        checked: found.checked,
        groups: found.groups.length,
        skipped: found.skipped.length,
        overall: pairwiseFigures(groups, picture, kindOf),
        overallWithoutSmallCrops: pairwiseFigures(groups, picture, kindOf, (k1, k2) => k1 !== 'crop-small' && k2 !== 'crop-small'),
        wrongPairs: groups.flatMap((g) =>
          g.flatMap((a, i) =>
            g
              .slice(i + 1)
              .filter((b) => picture.get(a) !== picture.get(b))
              .map((b): [string, string] => [pathOf.get(a)!, pathOf.get(b)!]),
          ),
        ),
      };
      points.push(point);
      o.onPoint?.(point);
    }
    return {
      protocol:
        `near-duplicate grouping by size: ${copies.length} seeded edited copies of the Flickr8k test photos (seed ${seed}) among ` +
        `${originals.length} originals and ${distractors.length} train+dev distractors (${base.originals + base.copies + base.flickrDistractors} images, 1×), ` +
        `more distractors from LFW (${extras.lfw} face photos) then CIFAR-10 (${extras.cifar10} test images), in that order`,
      seed,
      base,
      extras,
      sizes,
      points,
      short,
      seconds: { index: indexSeconds },
    };
  } finally {
    await c.close();
  }
}

/** Groups the members only: their rows of the index, their neighbours among themselves, their images. */
async function groupSubset(
  c: Collection,
  all: { ids: readonly string[]; matrix: Float32Array },
  members: ReadonlySet<string>,
  onProgress: DuplicatesScaleOptions['onProgress'],
): Promise<DuplicateFinding> {
  const dim = all.ids.length ? all.matrix.length / all.ids.length : 0;
  const ids: string[] = [];
  const outside = new Set<string>();
  const rows: number[] = [];
  all.ids.forEach((id, row) => {
    if (members.has(id)) {
      ids.push(id);
      rows.push(row);
    } else outside.add(id);
  });
  const matrix = new Float32Array(ids.length * dim);
  rows.forEach((row, i) => matrix.set(all.matrix.subarray(row * dim, (row + 1) * dim), i * dim));
  return findDuplicates(
    {
      vectors: async () => ({ ids, matrix }),
      searchMany: async (q, count, opts) => c.store.searchMany(q, count, { ...opts, exclude: outside }),
      readImage: async (id) => {
        if (!members.has(id)) throw new Error('outside the subset');
        return fs.promises.readFile((await c.items([id]))[0]!.path);
      },
    },
    { onProgress: (p) => onProgress?.(`${ids.length} images: ${p.phase}`, p.done, p.total) },
  );
}
