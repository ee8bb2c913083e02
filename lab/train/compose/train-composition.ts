import { Worker } from 'node:worker_threads';
import { VisorError } from '../../../src/errors.js';
import type { MobileNetOptions } from '../../../src/models/mobilenet.js';
import { prepareImageInputs } from '../../../src/compose/image-inputs.js';
import type { ImageTable } from '../../../src/compose/image-table.js';
import { ComposeModel } from '../../../src/compose/model.js';
import { DEFAULT_CNN, type FusionKind, type ImageEncoderConfig, type ImageEncoderKind, type NetworkConfig } from '../../../src/compose/network.js';
import { buildVocabulary, encodeTexts, featureIndex } from '../../../src/compose/text-features.js';
import type { Params } from '../../../src/compose/layers.js';
import { initTf, tf, type TfBackend } from '../../../src/compose/tf.js';
import { trainNetwork, type EpochLog, type TrainNetworkOptions, type TripletRows } from './train.js';
import type { TrainerMessage, TrainJob } from './train-protocol.js';
import type { Triplet } from './triplets.js';

/** Images already turned into encoder inputs, shared by several trainings on the same data. */
export interface PreparedImages {
  encoder: ImageEncoderConfig;
  /** Absolute path → row of `table`. */
  rows: Map<string, number>;
  table: ImageTable;
}

export interface TrainCompositionOptions {
  /** Default `tirg`. */
  fusion?: FusionKind;
  /** Default `cnn` (a small CNN trained with the rest). */
  encoder?: ImageEncoderKind;
  /** Joint embedding size (default 512). */
  dim?: number;
  /** Passes over the triplets (default 12). */
  epochs?: number;
  /** Triplets per step (default 128); every other image of the batch is a negative. */
  batchSize?: number;
  /** Peak Adam learning rate, cosine-decayed to zero (default 0.001). */
  learningRate?: number;
  /** Seed of the weights and the batch order (default 1). */
  seed?: number;
  backend?: TfBackend;
  mobilenet?: MobileNetOptions;
  /** Reuse images prepared for an earlier training on the same triplets. */
  prepared?: PreparedImages;
  /**
   * Train in a worker thread (default false). TensorFlow.js computes on one core in Node, so
   * several trainings started together this way run side by side.
   */
  thread?: boolean;
  onProgress?: (p: { phase: 'images' | 'training'; done: number; total: number; loss?: number; epoch?: number }) => void;
}

export function encoderConfig(kind: ImageEncoderKind): ImageEncoderConfig {
  switch (kind) {
    case 'cnn':
      return DEFAULT_CNN;
    case 'mobilenet-pooled':
      return { kind };
    case 'mobilenet-spatial':
      return { kind, cellWidth: 32 };
  }
}

/** Reads and decodes every image the triplets name, once each. */
export async function prepareImages(
  triplets: readonly Triplet[],
  kind: ImageEncoderKind,
  opts: Pick<TrainCompositionOptions, 'mobilenet' | 'onProgress'> = {},
): Promise<PreparedImages> {
  const encoder = encoderConfig(kind);
  const paths = [...new Set(triplets.flatMap((t) => [t.reference, t.target]))];
  const table = await prepareImageInputs(encoder, paths, {
    mobilenet: opts.mobilenet,
    onProgress: (done, total) => opts.onProgress?.({ phase: 'images', done, total }),
  });
  return { encoder, rows: new Map(paths.map((p, i) => [p, i])), table };
}

/**
 * Trains a composition model on (reference, text, target) triplets: the image encoder, a text
 * encoder over the triplets' words and word pairs, and the fusion module, with a triplet
 * loss. The library behind `visor-lab train compose`.
 */
export async function trainComposition(triplets: readonly Triplet[], opts: TrainCompositionOptions = {}): Promise<ComposeModel> {
  await initTf(opts.backend);
  const started = performance.now();
  const prepared = opts.prepared ?? (await prepareImages(triplets, opts.encoder ?? 'cnn', opts));
  const vocabulary = buildVocabulary(triplets.map((t) => t.text));
  const { rows: textRows } = encodeTexts(
    triplets.map((t) => t.text),
    featureIndex(vocabulary),
  );
  const config: NetworkConfig = {
    image: prepared.encoder,
    fusion: opts.fusion ?? 'tirg',
    dim: opts.dim ?? 512,
    textInputs: vocabulary.features.length,
    textHidden: 512,
    fusionHidden: 1024,
  };
  const settings = { epochs: opts.epochs ?? 12, batchSize: opts.batchSize ?? 128, learningRate: opts.learningRate ?? 1e-3, seed: opts.seed ?? 1 };
  const rowOf = (p: string) => {
    const row = prepared.rows.get(p);
    if (row === undefined) throw new VisorError('QUERY_INVALID', `image ${p} is not among the prepared images`);
    return row;
  };
  const rows = triplets.map((t, i) => ({ reference: rowOf(t.reference), target: rowOf(t.target), text: i }));
  const onStep: TrainNetworkOptions['onStep'] = (s) =>
    opts.onProgress?.({ phase: 'training', done: s.epoch * s.steps + s.step, total: settings.epochs * s.steps, loss: s.loss, epoch: s.epoch + 1 });
  const { params, log } = opts.thread
    ? await trainInWorker({ backend: opts.backend, config, images: tableFields(prepared), textRows, triplets: rows, settings }, onStep)
    : await trainNetwork(config, prepared.table, textRows, rows, { ...settings, onStep });
  return new ComposeModel(config, vocabulary, params, {
    triplets: triplets.length,
    images: prepared.table.count,
    ...settings,
    log,
    seconds: (performance.now() - started) / 1000,
  });
}

function tableFields(p: PreparedImages): TrainJob['images'] {
  const t = p.table;
  return { count: t.count, shape: [...t.shape], data: t.data, offset: t.offset, scale: t.scale };
}

/** Under tsx (tests, the eval script) the worker is TypeScript: register tsx's loader inside it first. */
function spawnTrainer(job: TrainJob): Worker {
  if (import.meta.url.endsWith('.ts')) {
    const ts = new URL('./train-worker.ts', import.meta.url).href;
    const boot = `import('tsx/esm/api').then(({ register }) => { register(); return import(${JSON.stringify(ts)}); })`;
    return new Worker(boot, { eval: true, workerData: job });
  }
  return new Worker(new URL('./train-worker.js', import.meta.url), { workerData: job });
}

async function trainInWorker(job: TrainJob, onStep: TrainNetworkOptions['onStep']): Promise<{ params: Params; log: EpochLog[] }> {
  const worker = spawnTrainer(job);
  try {
    return await new Promise((resolve, reject) => {
      worker.on('message', (m: TrainerMessage) => {
        if (m.type === 'step') onStep?.(m);
        else if (m.type === 'error') reject(new Error(`training worker: ${m.message}`));
        else {
          const params: Params = {};
          for (const [name, w] of Object.entries(m.weights)) params[name] = tf.variable(tf.tensor(w.data, w.shape), true);
          resolve({ params, log: m.log });
        }
      });
      worker.on('error', reject);
      worker.on('exit', (code) => reject(new Error(`training worker exited with code ${code}`)));
    });
  } finally {
    await worker.terminate();
  }
}

export type { TripletRows };
