import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { ComposeModel } from '../../../src/compose/model.js';
import type { FusionKind, ImageEncoderKind } from '../../../src/compose/network.js';
import { prepareImageInputs } from '../../../src/compose/image-inputs.js';
import { prepareImages, trainComposition, type TrainCompositionOptions } from '../../train/compose/train-composition.js';
import type { Triplet } from '../../train/compose/triplets.js';
import { ExactKernel } from '../../../src/store/exact-kernel.js';
import { summarize } from '../metrics.js';
import { generateCss, type CssGenerateOptions, type CssQuery, type CssSplit } from './generate.js';
import { COLOUR_NAMES, POSITIONS, SHAPES, SIZES, type ModificationKind } from './scene.js';

export interface CssEvalOptions extends Omit<CssGenerateOptions, 'onProgress'> {
  /** Image encoder of the trained models (default `cnn`). */
  encoder?: ImageEncoderKind;
  /** Fusion modules to train and compare (default tirg and concat). */
  fusions?: Array<Exclude<FusionKind, 'text-only'>>;
  /** Training settings (defaults of {@link trainComposition}). */
  epochs?: number;
  batchSize?: number;
  learningRate?: number;
  /** Keep the generated data here instead of a temporary folder (kept afterwards). */
  dataDir?: string;
  onPhase?: (phase: string, seconds?: number) => void;
  onProgress?: (phase: string, done: number, total: number, detail?: Record<string, number>) => void;
}

export interface RetrievalFigures {
  recallAt1: number;
  recallAt5: number;
  recallAt10: number;
  /** R@1 per modification kind. */
  recallAt1ByKind: Record<ModificationKind, number>;
}

export interface CssMethodResult extends RetrievalFigures {
  name: string;
  description: string;
}

export interface CssReport {
  protocol: string;
  data: {
    seed: number;
    imageSize: number;
    scene: { shapes: readonly string[]; colours: readonly string[]; sizes: readonly string[]; grid: string; objects: string };
    train: { queries: number; images: number; kinds: Record<string, number> };
    test: { queries: number; images: number; kinds: Record<string, number> };
  };
  encoder: ImageEncoderKind;
  /** Trained compositions first, then the baselines. */
  methods: CssMethodResult[];
  /** Weight of the text in the zero-shot sum, chosen on training queries. */
  zeroShotWeight: number;
  training: Record<string, { epochs: number; batchSize: number; learningRate: number; finalLoss: number; seconds: number }>;
  seconds: Record<string, number> & { total: number };
}

/**
 * Default epochs: three models side by side on two cores ran 1.23 s per step (a 6,000-query run,
 * under contention); 16,000 queries × 8 epochs is 1,000 steps, about 21 minutes of training,
 * inside the benchmark's 30-minute budget.
 */
export const CSS_EPOCHS = 8;

const KINDS: ModificationKind[] = ['add', 'remove', 'colour', 'size', 'shape'];
const ZERO_SHOT_WEIGHTS = [0.25, 0.5, 0.75, 1, 1.5, 2, 3, 4];

function kindCounts(queries: readonly CssQuery[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const q of queries) out[q.kind] = (out[q.kind] ?? 0) + 1;
  return out;
}

function tripletsOf(split: CssSplit, imagesDir: string): Triplet[] {
  return split.queries.map((q) => ({ reference: path.join(imagesDir, q.reference), text: q.text, target: path.join(imagesDir, q.target) }));
}

/**
 * Scores queries against a gallery the way TIRG evaluates CSS: every gallery image is a
 * candidate except the query's own reference; the one relevant image is the target scene.
 */
async function score(
  kernel: ExactKernel,
  queries: Float32Array,
  gallery: Float32Array,
  dim: number,
  refRows: Int32Array,
  targetRows: Int32Array,
  kinds: readonly ModificationKind[],
): Promise<RetrievalFigures> {
  const n = refRows.length;
  const top = await kernel.topK(queries, n, gallery, gallery.length / dim, new Float32Array(gallery.length / dim), 11);
  const ranked = Array.from({ length: n }, (_, i) => {
    const rows = Array.from(top.rows.subarray(i * top.k, (i + 1) * top.k))
      .filter((r) => r !== refRows[i])
      .slice(0, 10);
    return { relevant: Uint8Array.from(rows, (r) => (r === targetRows[i] ? 1 : 0)), totalRelevant: 1 };
  });
  const s = summarize(ranked, { ks: [1, 5, 10] });
  const byKind = {} as Record<ModificationKind, number>;
  for (const k of KINDS) {
    const idx = kinds.flatMap((x, i) => (x === k ? [i] : []));
    byKind[k] = idx.length ? idx.reduce((a, i) => a + ranked[i]!.relevant[0]!, 0) / idx.length : NaN;
  }
  return { recallAt1: s.recallAtK[1]!, recallAt5: s.recallAtK[5]!, recallAt10: s.recallAtK[10]!, recallAt1ByKind: byKind };
}

/** Everything needed to score one split against its own gallery. */
interface SplitEval {
  imagesDir: string;
  split: CssSplit;
  refRows: Int32Array;
  targetRows: Int32Array;
  texts: string[];
  kinds: ModificationKind[];
}

function splitEval(split: CssSplit, imagesDir: string, limit = Infinity): SplitEval {
  const row = new Map(split.images.map((f, i) => [f, i]));
  const qs = split.queries.slice(0, limit);
  return {
    imagesDir,
    split,
    refRows: Int32Array.from(qs, (q) => row.get(q.reference)!),
    targetRows: Int32Array.from(qs, (q) => row.get(q.target)!),
    texts: qs.map((q) => q.text),
    kinds: qs.map((q) => q.kind),
  };
}

function pickRows(matrix: Float32Array, rows: Int32Array, dim: number): Float32Array {
  const out = new Float32Array(rows.length * dim);
  rows.forEach((r, i) => out.set(matrix.subarray(r * dim, (r + 1) * dim), i * dim));
  return out;
}

/**
 * The CSS composed-retrieval benchmark end to end: generate the scenes, train the composition
 * models (and the text-only model the text-only and zero-shot baselines need) on the training
 * triplets, then retrieve each test query's target among all test images.
 */
export async function evalCss(opts: CssEvalOptions = {}): Promise<CssReport> {
  const started = performance.now();
  const seconds: Record<string, number> = {};
  const phase = async <T>(name: string, f: () => Promise<T>): Promise<T> => {
    opts.onPhase?.(name);
    const t0 = performance.now();
    const out = await f();
    seconds[name] = (performance.now() - t0) / 1000;
    opts.onPhase?.(name, seconds[name]);
    return out;
  };
  const dir = opts.dataDir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'visor-eval-css-'));
  const kernel = await ExactKernel.create();
  const models: ComposeModel[] = [];
  try {
    const data = await phase('generate', () =>
      generateCss(dir, {
        seed: opts.seed,
        trainQueries: opts.trainQueries,
        testQueries: opts.testQueries,
        chainLength: opts.chainLength,
        imageSize: opts.imageSize,
        onProgress: (d, t) => opts.onProgress?.('generate', d, t),
      }),
    );
    const encoder = opts.encoder ?? 'cnn';
    const trainTriplets = tripletsOf(data.train, data.imagesDir);
    const prepared = await phase('prepare images', () =>
      prepareImages(trainTriplets, encoder, { onProgress: (p) => opts.onProgress?.('prepare images', p.done, p.total) }),
    );
    const testTable = await phase('prepare test images', () =>
      prepareImageInputs(
        prepared.encoder,
        data.test.images.map((f) => path.join(data.imagesDir, f)),
        { onProgress: (d, t) => opts.onProgress?.('prepare test images', d, t) },
      ),
    );
    const settings: TrainCompositionOptions = {
      encoder,
      prepared,
      epochs: opts.epochs ?? CSS_EPOCHS,
      batchSize: opts.batchSize,
      learningRate: opts.learningRate,
    };
    const train = (fusion: FusionKind) =>
      (async () => {
        const m = await trainComposition(trainTriplets, {
          ...settings,
          fusion,
          thread: true,
          // The models advance together: one progress line (the first) stands for all.
          onProgress:
            fusion === (opts.fusions ?? ['tirg'])[0]
              ? (p) => opts.onProgress?.('train', p.done, p.total, { loss: p.loss ?? NaN, epoch: p.epoch ?? 0 })
              : undefined,
        });
        models.push(m);
        return m;
      })();
    const test = splitEval(data.test, data.imagesDir);
    // Training queries for choosing the zero-shot weight, scored against the training gallery.
    const tune = splitEval(data.train, data.imagesDir, 2000);
    const trainRows = Int32Array.from(data.train.images, (f) => prepared.rows.get(path.join(data.imagesDir, f))!);

    const methods: CssMethodResult[] = [];
    const training: CssReport['training'] = {};
    const record = (name: string, m: ComposeModel) => {
      const t = m.training;
      training[name] = { epochs: t.epochs, batchSize: t.batchSize, learningRate: t.learningRate, finalLoss: t.log.at(-1)?.loss ?? NaN, seconds: t.seconds };
    };
    const composed = async (m: ComposeModel, e: SplitEval, galleryTable = testTable, galleryRows?: Int32Array) => {
      const gallery = await m.embedImages(galleryTable, { rows: galleryRows });
      const refs = await m.embedImages(galleryTable, { rows: galleryRows ? Int32Array.from(e.refRows, (r) => galleryRows[r]!) : e.refRows, unit: false });
      return { gallery, queries: await m.composeEmbeddings(refs, e.texts) };
    };

    let imageOnlyFrom: ComposeModel | null = null;
    // Every model trains at once, each in its own worker thread (TensorFlow.js's WASM backend
    // computes on one core): on two cores three models take about 1.5× the time of one.
    const fusions = opts.fusions ?? ['tirg', 'concat'];
    const trained = Promise.all([...fusions, 'text-only' as const].map((f) => train(f)));
    trained.catch(() => undefined);
    const all = await phase('train (all models in parallel)', () => trained);
    for (const [i, fusion] of fusions.entries()) {
      const m = all[i]!;
      record(fusion, m);
      const figures = await phase(`evaluate ${fusion}`, async () => {
        const { gallery, queries } = await composed(m, test);
        return score(kernel, queries, gallery, m.dim, test.refRows, test.targetRows, test.kinds);
      });
      methods.push({
        name: `composed (${fusion === 'tirg' ? 'TIRG gated residual' : 'concat MLP, DenseBert4Ret-style'})`,
        description: `trained ${encoder} image encoder + text encoder + ${fusion} fusion, batch softmax loss over the triplets`,
        ...figures,
      });
      imageOnlyFrom ??= m;
    }

    const textModel = all.at(-1)!;
    record('text-only', textModel);
    const baselines = await phase('evaluate baselines', async () => {
      const out: CssMethodResult[] = [];
      // Image only: the reference's own embedding from the first trained model's encoder.
      const g = await imageOnlyFrom!.embedImages(testTable);
      out.push({
        name: 'image only',
        description: `reference image embedding (the trained ${encoder} encoder of the first composition model), text ignored`,
        ...(await score(kernel, pickRows(g, test.refRows, imageOnlyFrom!.dim), g, imageOnlyFrom!.dim, test.refRows, test.targetRows, test.kinds)),
      });
      const { gallery, queries } = await composed(textModel, test);
      out.push({
        name: 'text only',
        description: 'text encoder + MLP trained to retrieve the target from the text alone (reference ignored)',
        ...(await score(kernel, queries, gallery, textModel.dim, test.refRows, test.targetRows, test.kinds)),
      });
      // Zero-shot composition: no fusion module; the reference embedding plus λ × the text's
      // embedding in the same space, λ chosen on training queries.
      // Both inputs are unit rows; the sum is re-normalised, so ranking by cosine is unaffected by scale.
      const zeroShot = (imgs: Float32Array, texts: Float32Array, refRows: Int32Array, dim: number, weight: number) => {
        const out = new Float32Array(refRows.length * dim);
        refRows.forEach((r, i) => {
          let norm = 0;
          for (let d = 0; d < dim; d++) {
            const v = imgs[r * dim + d]! + weight * texts[i * dim + d]!;
            out[i * dim + d] = v;
            norm += v * v;
          }
          const inv = 1 / Math.sqrt(norm || 1);
          for (let d = 0; d < dim; d++) out[i * dim + d]! *= inv;
        });
        return out;
      };
      const tuneSet = await composed(textModel, tune, prepared.table, trainRows);
      let best = { weight: ZERO_SHOT_WEIGHTS[0]!, r1: -1 };
      for (const w of ZERO_SHOT_WEIGHTS) {
        const f = await score(
          kernel,
          zeroShot(tuneSet.gallery, tuneSet.queries, tune.refRows, textModel.dim, w),
          tuneSet.gallery,
          textModel.dim,
          tune.refRows,
          tune.targetRows,
          tune.kinds,
        );
        if (f.recallAt1 > best.r1) best = { weight: w, r1: f.recallAt1 };
      }
      out.push({
        name: 'zero-shot composition',
        description: `normalise(image + ${best.weight}·text) in the text-only model's space (its image and text encoders, no fusion module; weight chosen on training queries)`,
        ...(await score(
          kernel,
          zeroShot(gallery, queries, test.refRows, textModel.dim, best.weight),
          gallery,
          textModel.dim,
          test.refRows,
          test.targetRows,
          test.kinds,
        )),
      });
      return { out, weight: best.weight };
    });
    methods.push(...baselines.out);

    return {
      protocol:
        'CSS-style composed retrieval (Vo et al. 2019): each test query is a reference scene and a modification text; ' +
        'the gallery is every test image except the reference; one relevant image (the target scene); train and test scenes disjoint',
      data: {
        seed: data.seed,
        imageSize: data.imageSize,
        scene: { shapes: SHAPES, colours: COLOUR_NAMES, sizes: SIZES, grid: `3×3 (${POSITIONS.join(', ')})`, objects: '1 to 5 per scene' },
        train: { queries: data.train.queries.length, images: data.train.images.length, kinds: kindCounts(data.train.queries) },
        test: { queries: data.test.queries.length, images: data.test.images.length, kinds: kindCounts(data.test.queries) },
      },
      encoder,
      methods,
      zeroShotWeight: baselines.weight,
      training,
      seconds: { ...seconds, total: (performance.now() - started) / 1000 },
    };
  } finally {
    for (const m of models) m.dispose();
    await kernel.close();
    if (!opts.dataDir) fs.rmSync(dir, { recursive: true, force: true });
  }
}
