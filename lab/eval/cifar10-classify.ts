import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { crossValidate, type TrainClassifierOptions } from '../train/classify/train-classifier.js';
import { loadLabelledRows } from '../train/classify/training-data.js';
import { ZeroShotPredictor } from '../../src/classify/zero-shot.js';
import { Collection } from '../../src/collection.js';
import { chooseCategories, narrowingBias, type NarrowOptions } from '../../src/domain/narrow.js';
import type { IndexProgress } from '../../src/ingest/indexer.js';
import { ExactKernel } from '../../src/store/exact-kernel.js';
import { loadCifar10 } from './datasets.js';
import { precisionRecallCurve, summarize, type RankedQuery } from './metrics.js';
import { confusionMatrixSvg, precisionRecallSvg } from './svg.js';

export interface Cifar10ClassifyOptions {
  /** Keep the index here (re-runs skip embedding); default: a temporary folder. */
  db?: string;
  /** Class-balanced subset of this many images (default: all 10,000). */
  limit?: number;
  folds?: number;
  training?: Omit<TrainClassifierOptions, 'folds' | 'onProgress'>;
  narrow?: NarrowOptions;
  /**
   * Train on each image's left–right mirror too and average predictions over image and mirror
   * (default true; one extra model run per image). The accuracy without is reported as well.
   */
  mirror?: boolean;
  /** Where the JSON report and SVG plots go (default: no files). */
  out?: string;
  /** Queries timed through the whole online path, with and without narrowing (default 100; 0: none). */
  latencyQueries?: number;
  onIndexProgress?: (p: IndexProgress) => void;
  onProgress?: (stage: string, done: number, total: number) => void;
}

interface RetrievalFigures {
  mapAt1000: number;
  precisionAt10: number;
  recallAt1: number;
  precisionRecall: { recall: number[]; precision: number[] };
}

export interface Cifar10ClassifyReport {
  protocol: string;
  items: number;
  classification: {
    folds: number;
    accuracy: number;
    balancedAccuracy: number;
    categories: string[];
    confusion: number[][];
    /** The zero-shot predictor (category names through WordNet, no labels used) on the same items. */
    zeroShotAccuracy: number;
    /** Whether the classifier above trained on mirror images and averaged over image and mirror. */
    mirror: boolean;
    /** With mirroring: the same cross-validation on the stored features alone (no mirrors). */
    withoutMirror?: { accuracy: number; balancedAccuracy: number };
  };
  retrieval: {
    /** Exact cosine over the whole gallery. */
    plain: RetrievalFigures;
    /** Query category predicted out of fold; gallery categories from the catalogue column. */
    narrowedCatalogue: RetrievalFigures;
    /** Query and gallery categories both predicted out of fold (a collection with no labels at all). */
    narrowedPredicted: RetrievalFigures;
    /** Query and gallery categories both from the zero-shot predictor (no labels, no training). */
    narrowedZeroShot: RetrievalFigures;
    /** Queries whose prediction was confident enough to narrow. */
    narrowedShare: number;
  };
  latency?: { queries: number; p50Ms: { plain: number; narrowed: number }; p90Ms: { plain: number; narrowed: number } };
  files: string[];
  seconds: { index: number; mirror: number; crossValidation: number; retrieval: number; latency: number; total: number };
}

function balancedSubset<T>(items: T[], limit: number | undefined): T[] {
  if (!limit || limit >= items.length) return items;
  const step = items.length / limit;
  return Array.from({ length: limit }, (_, i) => items[Math.floor(i * step)]!);
}

function quantile(values: number[], q: number): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))] ?? NaN;
}

/**
 * Ranks every item against the others by exact cosine plus a per-query bias (the narrowing
 * tiers). Queries sharing a bias vector run as one batch, so the narrowed protocol costs
 * hardly more than the plain one.
 */
async function rankAll(
  kernel: ExactKernel,
  matrix: Float32Array,
  n: number,
  labels: Int32Array,
  biasKeyOf: (q: number) => string,
  biasOf: (key: string) => Float32Array,
  depth: number,
): Promise<RankedQuery[]> {
  const dim = matrix.length / n;
  const perClass = new Map<number, number>();
  for (const l of labels) perClass.set(l, (perClass.get(l) ?? 0) + 1);
  const groups = new Map<string, number[]>();
  for (let q = 0; q < n; q++) {
    const key = biasKeyOf(q);
    const g = groups.get(key);
    if (g) g.push(q);
    else groups.set(key, [q]);
  }
  const out: RankedQuery[] = new Array<RankedQuery>(n);
  for (const [key, qs] of groups) {
    const bias = biasOf(key);
    const queries = new Float32Array(qs.length * dim);
    qs.forEach((q, i) => queries.set(matrix.subarray(q * dim, (q + 1) * dim), i * dim));
    const top = await kernel.topK(queries, qs.length, matrix, n, bias, depth + 1);
    qs.forEach((q, i) => {
      const relevant = new Uint8Array(depth);
      let r = 0;
      for (let j = 0; j < top.k && r < depth; j++) {
        const row = top.rows[i * top.k + j]!;
        if (row === q) continue;
        relevant[r++] = labels[row] === labels[q] ? 1 : 0;
      }
      out[q] = { relevant, totalRelevant: perClass.get(labels[q]!)! - 1 };
    });
  }
  return out;
}

function figures(queries: RankedQuery[]): RetrievalFigures {
  const s = summarize(queries, { ks: [1, 10], mapAt: [1000] });
  return { mapAt1000: s.mapAt[1000]!, precisionAt10: s.precisionAtK[10]!, recallAt1: s.recallAtK[1]!, precisionRecall: precisionRecallCurve(queries) };
}

/**
 * CIFAR-10 test set through the category stage: the classifier is cross-validated on the
 * stored features (accuracy, confusion matrix), and image→image retrieval is scored with and
 * without narrowing, each query narrowed by the fold model that never saw its label.
 */
export async function evalCifar10Classify(opts: Cifar10ClassifyOptions = {}): Promise<Cifar10ClassifyReport> {
  const started = performance.now();
  const data = loadCifar10();
  const images = balancedSubset(data.images, opts.limit);
  const tmp = opts.db ? null : fs.mkdtempSync(path.join(os.tmpdir(), 'visor-eval-cifar10c-'));
  const db = opts.db ?? tmp!;
  const catalogue = `${db}.catalogue.csv`;
  fs.writeFileSync(catalogue, ['path,label,label_name', ...images.map((im) => `${im.path},${im.label},${im.labelName}`)].join('\n'));
  const collection = await Collection.open({ db, create: true });
  const kernel = await ExactKernel.create();
  try {
    const t0 = performance.now();
    await collection.index([catalogue], { onProgress: opts.onIndexProgress });
    const indexSeconds = (performance.now() - t0) / 1000;

    const store = collection.store;
    const labelled = await loadLabelledRows(store, 'label_name');
    const mirror = opts.mirror ?? true;
    const tm = performance.now();
    const mirrored = mirror ? await mirrorFeatures(collection, labelled.ids, opts.onProgress) : undefined;
    const mirrorSeconds = (performance.now() - tm) / 1000;
    const t1 = performance.now();
    const cvOpts = { ...opts.training, folds: opts.folds ?? 5, column: 'label_name', onProgress: opts.onProgress };
    const cv = crossValidate(labelled.rows, labelled.labels, { ...cvOpts, mirrored });
    const plainCv = mirror ? crossValidate(labelled.rows, labelled.labels, cvOpts) : undefined;
    const cvSeconds = (performance.now() - t1) / 1000;

    const t2 = performance.now();
    const { ids, matrix } = await store.vectors();
    const n = ids.length;
    const rowOf = new Map(ids.map((id, i) => [id, i]));
    const k = cv.categories.length;
    // Store row → labelled row.
    const lab = new Int32Array(n).fill(-1);
    labelled.ids.forEach((id, i) => {
      const r = rowOf.get(id);
      if (r !== undefined) lab[r] = i;
    });
    const labels = Int32Array.from(lab, (i) => (i >= 0 ? cv.labels[i]! : -1));
    const predicted = Int32Array.from(lab, (i) => (i >= 0 ? cv.predicted[i]! : -1));
    const chosenKey = (q: number) => {
      const i = lab[q]!;
      if (i < 0) return '';
      return chooseCategories(cv.probs.subarray(i * k, (i + 1) * k), cv.categories, opts.narrow).chosen.join(',');
    };
    const keys = Array.from({ length: n }, (_, q) => chosenKey(q));
    const parse = (key: string) => (key === '' ? [] : key.split(',').map(Number));
    // Zero-shot: the category names alone, through WordNet.
    const zs = await ZeroShotPredictor.create(cv.categories);
    const zsProbs = zs.predict(labelled.rows);
    const zsPredicted = new Int32Array(n).fill(-1);
    let zsCorrect = 0;
    lab.forEach((i, r) => {
      if (i < 0) return;
      let best = 0;
      for (let c = 1; c < k; c++) if (zsProbs[i * k + c]! > zsProbs[i * k + best]!) best = c;
      zsPredicted[r] = best;
      if (best === cv.labels[i]) zsCorrect++;
    });
    const zsKeys = Array.from({ length: n }, (_, q) =>
      lab[q]! < 0 ? '' : chooseCategories(zsProbs.subarray(lab[q]! * k, (lab[q]! + 1) * k), cv.categories, opts.narrow).chosen.join(','),
    );
    const depth = Math.min(1000, n - 1);
    opts.onProgress?.('retrieval', 0, 4);
    const plain = await rankAll(
      kernel,
      matrix,
      n,
      labels,
      () => '',
      () => new Float32Array(n),
      depth,
    );
    opts.onProgress?.('retrieval', 1, 4);
    const narrowedCatalogue = await rankAll(
      kernel,
      matrix,
      n,
      labels,
      (q) => keys[q]!,
      (key) => narrowingBias(labels, parse(key)),
      depth,
    );
    opts.onProgress?.('retrieval', 2, 4);
    const narrowedPredicted = await rankAll(
      kernel,
      matrix,
      n,
      labels,
      (q) => keys[q]!,
      (key) => narrowingBias(predicted, parse(key)),
      depth,
    );
    opts.onProgress?.('retrieval', 3, 4);
    const narrowedZeroShot = await rankAll(
      kernel,
      matrix,
      n,
      labels,
      (q) => zsKeys[q]!,
      (key) => narrowingBias(zsPredicted, parse(key)),
      depth,
    );
    opts.onProgress?.('retrieval', 4, 4);
    const retrievalSeconds = (performance.now() - t2) / 1000;

    let latency: Cifar10ClassifyReport['latency'];
    const t3 = performance.now();
    const latencyQueries = Math.min(opts.latencyQueries ?? 100, n);
    if (latencyQueries > 0)
      latency = await timeQueries(
        collection,
        cv.models[0]!,
        db,
        images.map((im) => im.path),
        latencyQueries,
      );
    const latencySeconds = (performance.now() - t3) / 1000;

    const report: Cifar10ClassifyReport = {
      protocol:
        `CIFAR-10 test set, ${cv.folds}-fold stratified cross-validation of the category classifier on stored image features; ` +
        'image→image retrieval (each image queries the others, relevant = same class, mAP@1000) plain and narrowed to the ' +
        'categories its out-of-fold classifier predicts',
      items: n,
      classification: {
        folds: cv.folds,
        accuracy: cv.accuracy,
        balancedAccuracy: cv.balancedAccuracy,
        categories: cv.categories,
        confusion: cv.confusion,
        zeroShotAccuracy: zsCorrect / Math.max(1, labelled.rows.count),
        mirror,
        ...(plainCv ? { withoutMirror: { accuracy: plainCv.accuracy, balancedAccuracy: plainCv.balancedAccuracy } } : {}),
      },
      retrieval: {
        plain: figures(plain),
        narrowedCatalogue: figures(narrowedCatalogue),
        narrowedPredicted: figures(narrowedPredicted),
        narrowedZeroShot: figures(narrowedZeroShot),
        narrowedShare: keys.filter((key) => key !== '').length / Math.max(1, n),
      },
      latency,
      files: [],
      seconds: {
        index: indexSeconds,
        mirror: mirrorSeconds,
        crossValidation: cvSeconds,
        retrieval: retrievalSeconds,
        latency: latencySeconds,
        total: (performance.now() - started) / 1000,
      },
    };
    if (opts.out) writeReport(report, opts.out);
    return report;
  } finally {
    await kernel.close();
    await collection.close();
    fs.rmSync(catalogue, { force: true });
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  }
}

/** Features of every labelled item's mirror image (one model run each). */
async function mirrorFeatures(collection: Collection, ids: readonly string[], onProgress: Cifar10ClassifyOptions['onProgress']) {
  const { DomainStages } = await import('../../src/domain/stages.js');
  const { mirroredRows } = await import('../../src/domain/mirror.js');
  const pipeline = await DomainStages.open(collection.store);
  try {
    return await mirroredRows(collection.store, await pipeline.encoder(), ids, { onProgress: (done, total) => onProgress?.('mirror images', done, total) });
  } finally {
    await pipeline.close();
  }
}

/** Times the online path (embed, classify, search) with narrowing off and on. */
async function timeQueries(
  collection: Collection,
  model: import('../../src/classify/category-classifier.js').CategoryClassifier,
  db: string,
  files: string[],
  count: number,
): Promise<NonNullable<Cifar10ClassifyReport['latency']>> {
  const file = path.join(db, 'eval-fold0-classifier.json');
  model.save(file);
  const stages = await collection.stagesData();
  await stages.categorizeItems({ predictor: { kind: 'trained', file }, catalogueColumn: 'label_name' });
  const step = files.length / count;
  const picks = Array.from({ length: count }, (_, i) => fs.readFileSync(files[Math.floor(i * step)]!));
  await collection.search({ images: [picks[0]!], k: 10, stages: { narrow: true } }); // warm-up: model loads
  const times: Record<'plain' | 'narrowed', number[]> = { plain: [], narrowed: [] };
  for (const bytes of picks) {
    for (const mode of ['plain', 'narrowed'] as const) {
      const s = performance.now();
      await collection.search({ images: [bytes], k: 10, stages: { narrow: mode === 'narrowed' } });
      times[mode].push(performance.now() - s);
    }
  }
  return {
    queries: count,
    p50Ms: { plain: quantile(times.plain, 0.5), narrowed: quantile(times.narrowed, 0.5) },
    p90Ms: { plain: quantile(times.plain, 0.9), narrowed: quantile(times.narrowed, 0.9) },
  };
}

function writeReport(report: Cifar10ClassifyReport, out: string): void {
  const dir = path.dirname(path.resolve(out));
  const base = path.basename(out).replace(/\.json$/, '');
  fs.mkdirSync(dir, { recursive: true });
  const confusion = path.join(dir, `${base}.confusion.svg`);
  const pr = path.join(dir, `${base}.pr.svg`);
  const c = report.classification;
  fs.writeFileSync(
    confusion,
    confusionMatrixSvg(c.categories, c.confusion, `CIFAR-10 category classifier, ${c.folds}-fold CV: accuracy ${c.accuracy.toFixed(3)}`),
  );
  const r = report.retrieval;
  fs.writeFileSync(
    pr,
    precisionRecallSvg(
      [
        { label: `plain (mAP@1000 ${r.plain.mapAt1000.toFixed(3)})`, ...r.plain.precisionRecall },
        { label: `narrowed, catalogue (${r.narrowedCatalogue.mapAt1000.toFixed(3)})`, ...r.narrowedCatalogue.precisionRecall },
        { label: `narrowed, predicted (${r.narrowedPredicted.mapAt1000.toFixed(3)})`, ...r.narrowedPredicted.precisionRecall },
        { label: `narrowed, zero-shot (${r.narrowedZeroShot.mapAt1000.toFixed(3)})`, ...r.narrowedZeroShot.precisionRecall },
      ],
      'CIFAR-10 image→image, precision–recall',
    ),
  );
  report.files = [path.resolve(out), confusion, pr];
  fs.writeFileSync(out, `${JSON.stringify(report, null, 2)}\n`);
}
