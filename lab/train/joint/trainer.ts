import type * as TF from '@tensorflow/tfjs';
import { crossModalReport, type CrossModalReport } from '../../eval/cross-modal.js';
import { encodeImageInput, encodeTokens, imageInput, isTrainable, type JointArchitecture, type Params } from '../../../src/models/joint-net.js';
import { loadTf, type Tf } from '../../../src/models/tf-runtime.js';
import { WordTokenizer } from '../../../src/text/word-tokenizer.js';
import { loadWordVectors, type WordVectors } from '../../../src/models/word-vectors.js';
import { rng } from '../../random.js';
import { epochBatches, type PairedSet } from './data.js';
import type { ImageFeatures } from './features.js';
import { initialWeights } from './init.js';
import { symmetricInfoNce, vseHardestNegative, type LossName } from './losses.js';

export interface JointTrainConfig {
  seed: number;
  /** Most epochs; training stops earlier when dev R-sum has not improved for `patience` epochs. */
  epochs: number;
  patience: number;
  batchSize: number;
  /**
   * Peak learning rate (Adam), reached after one epoch of linear warm-up, then cosine decay.
   * Default per loss (see LOSS_LR): the hinge loss is noisier and wants a smaller step.
   */
  lr: number;
  loss: LossName;
  /** VSE++ hinge margin. */
  margin: number;
  dropout: number;
  /** Gradients are rescaled when their global norm exceeds this. */
  clipNorm: number;
  dimension: number;
  imageHead: 'linear' | 'mlp';
  imageHidden: number;
  /** Feed the image model's class probabilities to the image head too. */
  useProbs: boolean;
  embedDim: number;
  encoder: 'mean' | 'attn' | 'gru';
  textHidden: number;
  textHead: 'linear' | 'mlp';
  /** Tokenizer: keep words seen this often in the training captions. */
  minCount: number;
  bigrams: boolean;
  maxTokens: number;
  /** Also train on the left–right mirrored image's features (when given). */
  flip: boolean;
  /**
   * Pretrained word vectors (GloVe 100-d) beside the learned token embedding: 'frozen' keeps
   * them as read, 'tuned' trains them too; 'none' learns words from the captions alone.
   */
  wordVectors: 'none' | 'frozen' | 'tuned';
  /** With word vectors: the most frequent GloVe words added to the vocabulary though unseen in training. */
  extraWords: number;
  /**
   * Stop after this many epochs of the schedule (0: run it all). Fitting on train and dev
   * together has no dev to stop on, so it stops where dev chose in the selection run.
   */
  stopAfter: number;
}

export const DEFAULT_JOINT_CONFIG: JointTrainConfig = {
  seed: 1,
  epochs: 12,
  patience: 3,
  batchSize: 128,
  lr: 1e-3,
  loss: 'infonce',
  margin: 0.2,
  dropout: 0.2,
  clipNorm: 2,
  dimension: 1024,
  imageHead: 'linear',
  imageHidden: 1024,
  useProbs: true,
  embedDim: 300,
  encoder: 'mean',
  textHidden: 512,
  textHead: 'linear',
  minCount: 3,
  bigrams: true,
  maxTokens: 64,
  flip: true,
  wordVectors: 'tuned',
  extraWords: 10_000,
  stopAfter: 0,
};

/** Default peak learning rate per loss, chosen on the Flickr8k dev split (docs/joint.md). */
export const LOSS_LR: Record<LossName, number> = { infonce: 1e-3, vse: 5e-4 };

/**
 * Default length of the schedule per loss (the cosine decay spans it), chosen on Flickr8k dev:
 * InfoNCE peaks within a few epochs and gains from decaying sooner; the hinge loss learns slowly.
 */
export const LOSS_EPOCHS: Record<LossName, number> = { infonce: 5, vse: 12 };

/**
 * Where each loss stops when fitting on train and dev together (no dev left to stop on): the
 * epochs dev chose in the selection run (both VSE++ networks peaked at epoch 5 of their 12; the
 * InfoNCE networks at 3 and 5 of their 5, within 1.7 R-sum of each other at epoch 5).
 */
export const LOSS_STOP_AFTER_FINAL: Record<LossName, number> = { infonce: 5, vse: 5 };

export interface TrainSplit {
  set: PairedSet;
  features: ImageFeatures;
  /** Features of the mirrored images, row for row (augmentation; training split only). */
  flipped?: ImageFeatures;
}

export interface EpochRecord {
  epoch: number;
  loss: number;
  seconds: number;
  dev?: CrossModalReport;
}

export interface TrainProgress {
  phase: 'train' | 'dev';
  epoch: number;
  epochs: number;
  step: number;
  steps: number;
  /** Running mean of the training loss over this epoch. */
  loss: number;
  /** Which ensemble member, when several train at once. */
  member?: string;
  record?: EpochRecord;
}

export interface TrainedJoint {
  architecture: JointArchitecture;
  tokenizer: WordTokenizer;
  tensors: Map<string, { shape: number[]; data: Float32Array }>;
  history: EpochRecord[];
  bestEpoch: number;
  best?: CrossModalReport;
  seconds: number;
  config: JointTrainConfig;
}

export interface TrainHooks {
  onProgress?: (p: TrainProgress) => void;
  /** Called after each epoch with the best weights so far (checkpointing). */
  onCheckpoint?: (t: TrainedJoint, epoch: number) => void;
  signal?: AbortSignal;
}

function snapshot(params: Map<string, TF.Variable>): Map<string, { shape: number[]; data: Float32Array }> {
  const out = new Map<string, { shape: number[]; data: Float32Array }>();
  for (const [name, v] of params) out.set(name, { shape: [...v.shape], data: Float32Array.from(v.dataSync() as Float32Array) });
  return out;
}

/** Per-dimension mean, and one scale per block (features, √probs): rare classes are not blown up. */
function imageNormalisation(f: ImageFeatures, useProbs: boolean): { mean: Float32Array; invStd: Float32Array } {
  const blocks = useProbs ? [f.featureDim, f.numClasses] : [f.featureDim];
  const width = blocks.reduce((a, b) => a + b, 0);
  const mean = new Float64Array(width);
  const sq = new Float64Array(width);
  const n = f.count;
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < f.featureDim; j++) {
      const v = f.features[i * f.featureDim + j]!;
      mean[j]! += v;
      sq[j]! += v * v;
    }
    if (useProbs) {
      for (let j = 0; j < f.numClasses; j++) {
        const v = Math.sqrt(Math.max(0, f.probs[i * f.numClasses + j]!));
        mean[f.featureDim + j]! += v;
        sq[f.featureDim + j]! += v * v;
      }
    }
  }
  const outMean = new Float32Array(width);
  const invStd = new Float32Array(width);
  let start = 0;
  for (const size of blocks) {
    let variance = 0;
    for (let j = start; j < start + size; j++) {
      const m = mean[j]! / n;
      outMean[j] = m;
      variance += sq[j]! / n - m * m;
    }
    // Unit variance per dimension on average over the block.
    invStd.fill(1 / Math.sqrt(variance / size + 1e-12), start, start + size);
    start += size;
  }
  return { mean: outMean, invStd };
}

/**
 * Word vectors into `text.words` (bigrams and words GloVe lacks: zero), and a zero learned
 * embedding for tokens the training captions never contain: an unseen word then means what
 * its word vector says, not a random direction.
 */
function placeWordVectors(
  init: Map<string, { shape: number[]; data: Float32Array }>,
  tokenizer: WordTokenizer,
  vectors: WordVectors,
  captions: readonly string[],
): void {
  const wordsT = init.get('text.words')!;
  const embed = init.get('text.embed')!;
  const W = vectors.dim;
  const E = embed.shape[1]!;
  const seen = new Set<number>();
  for (const cap of captions) for (const id of tokenizer.encode(cap)) seen.add(id);
  tokenizer.spec.vocab.forEach((token, id) => {
    const v = token.includes('_') ? undefined : vectors.vector(token);
    if (v) wordsT.data.set(v, id * W);
    if (!seen.has(id)) embed.data.fill(0, id * E, (id + 1) * E);
  });
}

function rowsOf(src: Float32Array, width: number, rows: ArrayLike<number>): Float32Array {
  const out = new Float32Array(rows.length * width);
  for (let i = 0; i < rows.length; i++) out.set(src.subarray(rows[i]! * width, (rows[i]! + 1) * width), i * width);
  return out;
}

/** Dev retrieval with the current weights: every dev caption against every dev image. */
export function evaluateSplit(tf: Tf, params: Params, a: JointArchitecture, tokenizer: WordTokenizer, split: TrainSplit): CrossModalReport {
  const f = split.features;
  const scores = tf.tidy(() => {
    const im = encodeImageInput(
      tf,
      params,
      a,
      imageInput(tf, params, a, tf.tensor2d(f.features, [f.count, f.featureDim]), a.image.numClasses > 0 ? tf.tensor2d(f.probs, [f.count, f.numClasses]) : null),
    );
    const parts: TF.Tensor2D[] = [];
    for (let s = 0; s < split.set.captions.length; s += 1000) {
      const { ids, lengths, width } = tokenizer.encodeBatch(split.set.captions.slice(s, s + 1000));
      const tx = encodeTokens(tf, params, a, tf.tensor2d(ids, [lengths.length, width], 'int32'), tf.tensor1d(lengths, 'int32'));
      parts.push(tf.matMul(tx, im, false, true));
    }
    return tf.concat(parts, 0);
  });
  const data = scores.dataSync() as Float32Array;
  scores.dispose();
  return crossModalReport(data, split.set.captionImage, f.count);
}

/**
 * Trains the joint embedding: seeded, Adam with warm-up and cosine decay, gradient clipping,
 * early stopping on dev R-sum (the best epoch's weights are returned).
 */
export async function trainJoint(
  train: TrainSplit,
  dev: TrainSplit | null,
  config: Partial<JointTrainConfig> = {},
  hooks: TrainHooks = {},
): Promise<TrainedJoint> {
  const loss = config.loss ?? DEFAULT_JOINT_CONFIG.loss;
  const c: JointTrainConfig = { ...DEFAULT_JOINT_CONFIG, lr: LOSS_LR[loss], epochs: LOSS_EPOCHS[loss], ...config };
  const t0 = performance.now();
  const tf = await loadTf();
  const vectors = c.wordVectors === 'none' ? null : await loadWordVectors();
  const tokenizer = WordTokenizer.fit(train.set.captions, {
    minCount: c.minCount,
    bigrams: c.bigrams,
    maxTokens: c.maxTokens,
    known: vectors ? (w) => vectors.has(w) : undefined,
    extra: vectors ? vectors.words.slice(0, c.extraWords) : undefined,
  });
  const F = train.features.featureDim;
  const C = c.useProbs ? train.features.numClasses : 0;
  const architecture: JointArchitecture = {
    dimension: c.dimension,
    image: { featureDim: F, numClasses: C, head: c.imageHead, hidden: c.imageHidden },
    text: { vocabSize: tokenizer.vocabSize, embedDim: c.embedDim, wordDim: vectors?.dim ?? 0, encoder: c.encoder, hidden: c.textHidden, head: c.textHead },
  };
  const init = initialWeights(architecture, c.seed);
  if (vectors) placeWordVectors(init, tokenizer, vectors, train.set.captions);
  const norm = imageNormalisation(train.features, c.useProbs);
  init.get('image.norm.mean')!.data.set(norm.mean);
  init.get('image.norm.invStd')!.data.set(norm.invStd);
  const params = new Map<string, TF.Variable>();
  const learns = (n: string) => isTrainable(n) && (c.loss === 'infonce' || n !== 'logitScale') && (c.wordVectors !== 'frozen' || n !== 'text.words');
  for (const [name, t] of init) params.set(name, tf.variable(tf.tensor(t.data, t.shape), learns(name), name));
  const trainable = [...params].filter(([n]) => learns(n)).map(([, v]) => v);
  const optimizer = tf.train.adam(c.lr);
  const setLr = (lr: number) => {
    (optimizer as unknown as { learningRate: number }).learningRate = lr;
  };

  const tokens = train.set.captions.map((s) => tokenizer.encode(s));
  const rand = rng(c.seed ^ 0x5eed);
  const history: EpochRecord[] = [];
  let best: { rsum: number; epoch: number; tensors: Map<string, { shape: number[]; data: Float32Array }>; report?: CrossModalReport } | null = null;
  let stepsPerEpoch = 0;
  let globalStep = 0;
  const result = (): TrainedJoint => ({
    architecture,
    tokenizer,
    tensors: best?.tensors ?? snapshot(params),
    history,
    bestEpoch: best?.epoch ?? history.length,
    best: best?.report,
    seconds: (performance.now() - t0) / 1000,
    config: c,
  });

  try {
    const lastEpoch = c.stopAfter > 0 ? Math.min(c.stopAfter, c.epochs) : c.epochs;
    for (let epoch = 1; epoch <= lastEpoch; epoch++) {
      if (hooks.signal?.aborted) break;
      const e0 = performance.now();
      const batches = epochBatches(train.set, c.batchSize, rand);
      stepsPerEpoch = batches.length;
      const totalSteps = stepsPerEpoch * c.epochs;
      let lossSum = 0;
      for (let b = 0; b < batches.length; b++) {
        if (hooks.signal?.aborted) break;
        const caps = batches[b]!;
        const n = caps.length;
        const imgRows = Int32Array.from(caps, (cap) => train.set.captionImage[cap]!);
        const useFlip = c.flip && train.flipped && rand() < 0.5;
        const src = useFlip ? train.flipped! : train.features;
        const feats = rowsOf(src.features, F, imgRows);
        const probs = C > 0 ? rowsOf(src.probs, C, imgRows) : null;
        const width = Math.max(...Array.from(caps, (cap) => tokens[cap]!.length));
        const ids = new Int32Array(n * width);
        const lengths = new Int32Array(n);
        caps.forEach((cap, i) => {
          ids.set(tokens[cap]!, i * width);
          lengths[i] = tokens[cap]!.length;
        });
        const warm = Math.min(1, (globalStep + 1) / stepsPerEpoch);
        setLr(c.lr * warm * 0.5 * (1 + Math.cos((Math.PI * globalStep) / totalSteps)));
        const seed = (c.seed * 1_000_003 + globalStep * 7919) % 2_147_483_647;
        const lossValue = tf.tidy(() => {
          const fT = tf.tensor2d(feats, [n, F]);
          const pT = probs ? tf.tensor2d(probs, [n, C]) : null;
          const idsT = tf.tensor2d(ids, [n, width], 'int32');
          const lenT = tf.tensor1d(lengths, 'int32');
          const { value, grads } = tf.variableGrads(() => {
            const im = encodeImageInput(tf, params, architecture, imageInput(tf, params, architecture, fT, pT), { dropout: c.dropout, seed });
            const tx = encodeTokens(tf, params, architecture, idsT, lenT, { dropout: c.dropout, seed: seed + 17 });
            return c.loss === 'vse' ? vseHardestNegative(tf, im, tx, c.margin) : symmetricInfoNce(tf, im, tx, params.get('logitScale')!);
          }, trainable);
          // One read-back for the global norm; the rescale stays on the backend.
          const norm = Math.sqrt(tf.addN(Object.values(grads).map((g) => tf.sum(tf.square(g)))).dataSync()[0]!);
          const k = norm > c.clipNorm ? c.clipNorm / norm : 1;
          const applied = k === 1 ? grads : Object.fromEntries(Object.entries(grads).map(([name, g]) => [name, tf.mul(g, k)]));
          optimizer.applyGradients(applied as unknown as Parameters<typeof optimizer.applyGradients>[0]);
          return value.dataSync()[0]!;
        });
        lossSum += lossValue;
        globalStep++;
        hooks.onProgress?.({ phase: 'train', epoch, epochs: lastEpoch, step: b + 1, steps: batches.length, loss: lossSum / (b + 1) });
      }
      const record: EpochRecord = { epoch, loss: lossSum / Math.max(1, batches.length), seconds: (performance.now() - e0) / 1000 };
      if (dev) {
        hooks.onProgress?.({ phase: 'dev', epoch, epochs: lastEpoch, step: batches.length, steps: batches.length, loss: record.loss });
        record.dev = evaluateSplit(tf, params, architecture, tokenizer, dev);
      }
      history.push(record);
      const score = record.dev ? record.dev.rsum : -record.loss;
      if (!best || score > best.rsum) best = { rsum: score, epoch, tensors: snapshot(params), report: record.dev };
      hooks.onProgress?.({ phase: 'dev', epoch, epochs: lastEpoch, step: batches.length, steps: batches.length, loss: record.loss, record });
      hooks.onCheckpoint?.(result(), epoch);
      if (dev && epoch - best.epoch >= c.patience) break;
    }
  } finally {
    for (const v of params.values()) v.dispose();
    optimizer.dispose();
  }
  return result();
}
