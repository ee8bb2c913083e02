import { rng } from '../../random.js';
import { ImageTable } from '../../../src/compose/image-table.js';
import { matMulFast, type Params } from '../../../src/compose/layers.js';
import { createParams, encodeImages, encodeTextFeatures, fuse, l2Normalize, type NetworkConfig } from '../../../src/compose/network.js';
import type { EpochLog } from '../../../src/compose/model.js';
import { tf } from '../../../src/compose/tf.js';

/** One training example: rows of the image table and of the text feature matrix. */
export interface TripletRows {
  reference: number;
  target: number;
  /** Row of the text feature matrix. */
  text: number;
}

export interface TrainNetworkOptions {
  epochs: number;
  batchSize: number;
  learningRate: number;
  seed: number;
  /** Called after every step with the running mean loss of the epoch. */
  onStep?: (s: { epoch: number; step: number; steps: number; loss: number }) => void;
}

export type { EpochLog };

class ScheduledAdam extends tf.AdamOptimizer {
  setLearningRate(lr: number): void {
    this.learningRate = lr;
  }
}

function shuffle<T>(a: T[], random: () => number): T[] {
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [a[i], a[j]] = [a[j]!, a[i]!];
  }
  return a;
}

/**
 * Triplets grouped by the images they share (connected components: a target that is another
 * triplet's reference, two edits of one product photo). Batches are filled group by group, so a
 * target's close relatives (the scene one edit further, a sibling edit) are in its batch as
 * negatives: the near misses retrieval has to rank below it, which random batches almost never hold.
 */
export function tripletGroups(triplets: readonly TripletRows[]): number[][] {
  const parent = new Map<number, number>();
  const find = (x: number): number => {
    let r = x;
    while (parent.has(r) && parent.get(r) !== r) r = parent.get(r)!;
    parent.set(x, r);
    return r;
  };
  for (const t of triplets) {
    const a = find(t.reference);
    const b = find(t.target);
    if (a !== b) parent.set(a, b);
  }
  const groups = new Map<number, number[]>();
  triplets.forEach((t, i) => {
    const root = find(t.reference);
    const g = groups.get(root);
    if (g) g.push(i);
    else groups.set(root, [i]);
  });
  return [...groups.values()];
}

/** An epoch's triplet order: groups shuffled, each group's triplets together. */
function epochOrder(groups: readonly number[][], random: () => number): Int32Array {
  return Int32Array.from(shuffle(groups.slice(), random).flat());
}

/**
 * Batch classification loss (TIRG's, a softmax over the batch; InfoNCE): each query q must pick
 * its target t⁺ among every other image of the batch (the other targets and all references, its
 * own reference included): −log softmax(κ·cos(q, ·))[t⁺] with a learned scale κ. Candidates that
 * are the target's own image are masked out. (A soft triplet loss, softplus(κ²(cos⁻ − cos⁺)), was
 * tried first: its learned scale fell to zero, where the loss is ln 2 whatever the ranking.)
 */
function batchSoftmaxLoss(q: tf.Tensor2D, candidates: tf.Tensor2D, positive: tf.Tensor1D, mask: tf.Tensor2D, scale: tf.Tensor): tf.Scalar {
  const sims = matMulFast(q, tf.transpose(candidates)); // [B, 2B]
  const masked = tf.add(tf.mul(sims, scale), tf.mul(tf.sub(1, mask), -1e4));
  const logits = tf.concat([tf.expandDims(tf.mul(positive, scale), 1), masked], 1);
  return tf.mean(tf.sub(tf.logSumExp(logits, 1), tf.mul(positive, scale))) as tf.Scalar;
}

/**
 * Trains the image encoder, the text encoder and the fusion module together on triplets, with
 * Adam and a cosine-decayed learning rate. Deterministic for a given seed (weights, batch
 * order). Returns the trained parameters and a per-epoch log.
 */
export async function trainNetwork(
  cfg: NetworkConfig,
  images: ImageTable,
  textRows: Float32Array,
  triplets: readonly TripletRows[],
  opts: TrainNetworkOptions,
): Promise<{ params: Params; log: EpochLog[] }> {
  const random = rng(opts.seed);
  const params = createParams(cfg, random);
  const vars = Object.values(params);
  const optimizer = new ScheduledAdam(opts.learningRate, 0.9, 0.999, 1e-7);
  const bs = Math.min(opts.batchSize, triplets.length);
  const steps = Math.floor(triplets.length / bs);
  const total = steps * opts.epochs;
  const textDim = cfg.textInputs;
  const log: EpochLog[] = [];
  const groups = tripletGroups(triplets);
  let global = 0;
  for (let epoch = 0; epoch < opts.epochs; epoch++) {
    const started = performance.now();
    const order = epochOrder(groups, random);
    let sum = 0;
    for (let step = 0; step < steps; step++) {
      const batch = Array.from(order.subarray(step * bs, (step + 1) * bs), (i) => triplets[i]!);
      const rows = new Int32Array(2 * bs);
      batch.forEach((t, i) => {
        rows[i] = t.target;
        rows[bs + i] = t.reference;
      });
      const maskData = new Float32Array(bs * 2 * bs);
      batch.forEach((t, i) => {
        for (let j = 0; j < 2 * bs; j++) maskData[i * 2 * bs + j] = rows[j] === t.target ? 0 : 1;
      });
      const text = new Float32Array(bs * textDim);
      batch.forEach((t, i) => text.set(textRows.subarray(t.text * textDim, (t.text + 1) * textDim), i * textDim));

      optimizer.setLearningRate(opts.learningRate * 0.5 * (1 + Math.cos((Math.PI * global) / total)));
      const x = images.batch(rows);
      const tText = tf.tensor2d(text, [bs, textDim]);
      const mask = tf.tensor2d(maskData, [bs, 2 * bs]);
      const cost = optimizer.minimize(
        () => {
          const feats = encodeImages(cfg, params, x);
          const refs = tf.slice(feats, [bs, 0], [bs, cfg.dim]);
          const q = l2Normalize(fuse(cfg, params, refs, encodeTextFeatures(params, tText)));
          const cands = l2Normalize(feats);
          const positive = tf.sum(tf.mul(q, tf.slice(cands, [0, 0], [bs, cfg.dim])), 1) as tf.Tensor1D;
          return batchSoftmaxLoss(q, cands, positive, mask, params['loss.scale']!);
        },
        true,
        vars,
      )!;
      sum += (await cost.data())[0]!;
      tf.dispose([cost, x, tText, mask]);
      global++;
      opts.onStep?.({ epoch, step: step + 1, steps, loss: sum / (step + 1) });
    }
    log.push({ epoch: epoch + 1, loss: sum / Math.max(1, steps), seconds: (performance.now() - started) / 1000 });
  }
  optimizer.dispose();
  return { params, log };
}
