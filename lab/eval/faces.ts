import type { VisorPaths } from '../../src/config.js';
import { DEFAULT_GROUPING, Grouping, pairwiseScores, type GroupingFace, type GroupingParams } from '../../src/faces/grouping.js';
import { FACE_DIM } from '../../src/models/face-embedder.js';
import { Rng } from '../random.js';
import { lfwFaces, loadLfw, loadPairs, loadPeopleSplit, type Lfw, type LfwFaces, type LfwPair } from './lfw.js';

/**
 * Faces on LFW (deep-funneled): verification on the official pairs, and grouping of every
 * staged face into persons, in one go and in four batches. Thresholds are chosen on the
 * development view (View 1) or, for the 10-fold figure, on the nine other folds each time.
 */
export interface FacesReport {
  reader: string;
  images: number;
  /** Images with a face read (the one nearest the centre). */
  withFace: number;
  fallback: number;
  lowQuality: number;
  embedSeconds: number;
  verification: {
    /** 10-fold on pairs.txt, threshold from the other nine folds each time. */
    tenFold: { accuracy: number; std: number; thresholds: number[] };
    /** View 1: threshold chosen on pairsDevTrain, accuracy on pairsDevTest. */
    dev: { threshold: number; trainAccuracy: number; testAccuracy: number; trainPairs: number; testPairs: number };
    /** Pairs with an image where no face was found (scored 0). */
    missing: number;
    /** Pairs naming an image the staged subset left out (skipped). */
    unstaged: { tenFold: number; dev: number };
  };
  /** Grouping sweep on the development people (peopleDevTrain): what DEFAULT_GROUPING was chosen from. */
  sweep: Array<GroupingParams & { precision: number; recall: number; f1: number; persons: number }>;
  params: GroupingParams;
  clustering: Record<'all' | 'devTest', { faces: number; precision: number; recall: number; f1: number; persons: number; truePersons: number; seconds: number }>;
  incremental: {
    batches: number;
    oneGo: { precision: number; recall: number; f1: number; persons: number };
    batched: { precision: number; recall: number; f1: number; persons: number };
    f1Difference: number;
    /** A person named after the first batch: its name, and who holds it at the end. */
    named: { name: string; faces: number; keptName: boolean; faceShare: number };
  };
}

function cosine(f: LfwFaces, a: number, b: number): number {
  if (!f.found[a] || !f.found[b]) return 0;
  let s = 0;
  for (let i = 0; i < FACE_DIM; i++) s += f.embeddings[a * FACE_DIM + i]! * f.embeddings[b * FACE_DIM + i]!;
  return s;
}

interface Scored {
  cos: number;
  same: boolean;
}

/** The threshold with the best accuracy on these pairs (midpoint between neighbouring scores). */
export function bestThreshold(pairs: readonly Scored[]): { threshold: number; accuracy: number } {
  const sorted = [...pairs].sort((a, b) => a.cos - b.cos);
  // Threshold below everything: all called "same".
  let correct = sorted.filter((p) => p.same).length;
  let best = { threshold: sorted[0]!.cos - 1e-6, accuracy: correct / sorted.length };
  for (let i = 0; i < sorted.length; i++) {
    correct += sorted[i]!.same ? -1 : 1;
    const next = sorted[i + 1]?.cos ?? sorted[i]!.cos + 1e-6;
    if (correct / sorted.length > best.accuracy) best = { threshold: (sorted[i]!.cos + next) / 2, accuracy: correct / sorted.length };
  }
  return best;
}

const accuracyAt = (pairs: readonly Scored[], t: number) => pairs.filter((p) => p.cos >= t === p.same).length / pairs.length;

function groupingFaces(lfw: Lfw, f: LfwFaces, keep: (i: number) => boolean): { faces: GroupingFace[]; truth: Map<string, string> } {
  const faces: GroupingFace[] = [];
  const truth = new Map<string, string>();
  for (let i = 0; i < lfw.images.length; i++) {
    if (!f.found[i] || !keep(i)) continue;
    const id = String(i);
    faces.push({ id, embedding: f.embeddings.subarray(i * FACE_DIM, (i + 1) * FACE_DIM), low: f.low[i] === 1 });
    truth.set(id, lfw.person[i]!);
  }
  return { faces, truth };
}

function group(faces: GroupingFace[], params: GroupingParams, batches = 1, onBatch?: (g: Grouping, b: number) => void): Grouping {
  const byId = new Map(faces.map((x) => [x.id, x]));
  const g = new Grouping([], (id) => byId.get(id), params);
  const per = Math.ceil(faces.length / batches);
  for (let b = 0; b < batches; b++) {
    g.add(faces.slice(b * per, (b + 1) * per));
    g.regroup();
    onBatch?.(g, b);
  }
  return g;
}

function score(g: Grouping, faces: readonly GroupingFace[], truth: ReadonlyMap<string, string>) {
  const predicted = faces.map((x) => g.person(x.id) ?? `none-${x.id}`);
  const t = faces.map((x) => truth.get(x.id)!);
  return { ...pairwiseScores(predicted, t), persons: g.persons.size, truePersons: new Set(t).size };
}

export async function evalFaces(opts: { paths?: VisorPaths; onProgress?: (done: number, total: number) => void; sweep?: boolean } = {}): Promise<FacesReport> {
  const lfw = loadLfw(opts.paths);
  const f = await lfwFaces(lfw, { ...(opts.paths ? { paths: opts.paths } : {}), ...(opts.onProgress ? { onProgress: opts.onProgress } : {}) });
  const index = new Map(lfw.images.map((p, i) => [p, i]));
  let missing = 0;
  let unstaged = 0;
  // Pairs of images not staged (the View 1 files name some images the staged subset left out) are skipped and counted.
  const scored = (pairs: LfwPair[]): Scored[] =>
    pairs.flatMap((p) => {
      const a = index.get(p.a);
      const b = index.get(p.b);
      if (a === undefined || b === undefined) {
        unstaged++;
        return [];
      }
      if (!f.found[a] || !f.found[b]) missing++;
      return [{ cos: cosine(f, a, b), same: p.same }];
    });
  const folds = loadPairs(lfw, 'pairs.txt').map(scored);
  const tenFold = folds.map((test, k) => {
    const { threshold } = bestThreshold(folds.filter((_, j) => j !== k).flat());
    return { threshold, accuracy: accuracyAt(test, threshold) };
  });
  const mean = tenFold.reduce((s, x) => s + x.accuracy, 0) / tenFold.length;
  const std = Math.sqrt(tenFold.reduce((s, x) => s + (x.accuracy - mean) ** 2, 0) / tenFold.length);
  const devMissing = missing;
  const tenFoldUnstaged = unstaged;
  const devTrain = scored(loadPairs(lfw, 'pairsDevTrain.txt')[0]!);
  const devTest = scored(loadPairs(lfw, 'pairsDevTest.txt')[0]!);
  missing = devMissing;
  const dev = bestThreshold(devTrain);

  // Grouping: faces in a fixed random order (labels.csv is sorted by name, which would be too easy).
  const order = new Rng(16).shuffle(lfw.images.map((_, i) => i));
  const rank = new Map(order.map((i, r) => [i, r]));
  const byRank = (list: GroupingFace[]) => list.sort((a, b) => rank.get(Number(a.id))! - rank.get(Number(b.id))!);

  const devPeople = loadPeopleSplit(lfw, 'peopleDevTrain.txt');
  const sweep: FacesReport['sweep'] = [];
  if (opts.sweep) {
    const d = groupingFaces(lfw, f, (i) => devPeople.has(lfw.person[i]!));
    byRank(d.faces);
    for (const join of [0.35, 0.4, 0.45, 0.5, 0.55]) {
      for (const dm of [0, 0.05]) {
        const params = { ...DEFAULT_GROUPING, join, joinLow: join + 0.1, merge: join + dm };
        const s = score(group(d.faces, params), d.faces, d.truth);
        sweep.push({ ...params, precision: s.precision, recall: s.recall, f1: s.f1, persons: s.persons });
      }
    }
  }
  const params = DEFAULT_GROUPING;
  const clustering = {} as FacesReport['clustering'];
  const testPeople = loadPeopleSplit(lfw, 'peopleDevTest.txt');
  for (const [key, keep] of [
    ['all', () => true],
    ['devTest', (i: number) => testPeople.has(lfw.person[i]!)],
  ] as const) {
    const d = groupingFaces(lfw, f, keep);
    byRank(d.faces);
    const t0 = performance.now();
    const g = group(d.faces, params);
    const seconds = (performance.now() - t0) / 1000;
    const s = score(g, d.faces, d.truth);
    clustering[key] = { faces: d.faces.length, precision: s.precision, recall: s.recall, f1: s.f1, persons: s.persons, truePersons: s.truePersons, seconds };
  }

  // Incremental: the same faces in four batches, regrouped after each; after the first, the
  // person with most faces is named (as a user would) after its true majority.
  const all = groupingFaces(lfw, f, () => true);
  byRank(all.faces);
  const oneGo = score(group(all.faces, params), all.faces, all.truth);
  let named = { name: '', faces: 0, keptName: false, faceShare: 0 };
  let namedTruth = '';
  const batched = group(all.faces, params, 4, (g, b) => {
    if (b !== 0) return;
    const biggest = [...g.persons.values()].sort((x, y) => y.faces.length - x.faces.length)[0]!;
    const votes = new Map<string, number>();
    for (const fid of biggest.faces) votes.set(all.truth.get(fid)!, (votes.get(all.truth.get(fid)!) ?? 0) + 1);
    namedTruth = [...votes].sort((x, y) => y[1] - x[1])[0]![0];
    g.name(biggest.id, namedTruth.replace(/_/g, ' '));
  });
  {
    // At the end: the person holding most of that truth's faces, and whether it carries the name.
    const holders = new Map<string, number>();
    let total = 0;
    for (const x of all.faces) {
      if (all.truth.get(x.id) !== namedTruth) continue;
      total++;
      const p = batched.person(x.id)!;
      holders.set(p, (holders.get(p) ?? 0) + 1);
    }
    const [pid, n] = [...holders].sort((x, y) => y[1] - x[1])[0]!;
    const p = batched.persons.get(pid)!;
    named = { name: namedTruth.replace(/_/g, ' '), faces: p.faces.length, keptName: p.name === namedTruth.replace(/_/g, ' '), faceShare: n / total };
  }
  const b = score(batched, all.faces, all.truth);
  return {
    reader: f.reader,
    images: lfw.images.length,
    withFace: f.found.reduce((s, x) => s + x, 0),
    fallback: f.fallback,
    lowQuality: f.low.reduce((s, x) => s + x, 0),
    embedSeconds: f.seconds,
    verification: {
      tenFold: { accuracy: mean, std, thresholds: tenFold.map((t) => t.threshold) },
      dev: {
        threshold: dev.threshold,
        trainAccuracy: dev.accuracy,
        testAccuracy: accuracyAt(devTest, dev.threshold),
        trainPairs: devTrain.length,
        testPairs: devTest.length,
      },
      missing: devMissing,
      unstaged: { tenFold: tenFoldUnstaged, dev: unstaged - tenFoldUnstaged },
    },
    sweep,
    params,
    clustering,
    incremental: {
      batches: 4,
      oneGo: { precision: oneGo.precision, recall: oneGo.recall, f1: oneGo.f1, persons: oneGo.persons },
      batched: { precision: b.precision, recall: b.recall, f1: b.f1, persons: b.persons },
      f1Difference: b.f1 - oneGo.f1,
      named,
    },
  };
}
