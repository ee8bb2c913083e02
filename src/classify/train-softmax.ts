import { Rng } from '../core/random.js';
import { linearForward, softmaxRows, type LinearLayer } from './softmax.js';

/**
 * Trains the softmax classifier of src/classify/softmax.ts with mini-batch Adam on standardised
 * inputs. Plain typed-array loops: a few thousand items × a few thousand inputs × tens of
 * categories train in seconds.
 */
export interface SoftmaxTrainOptions {
  /** L2 penalty on the weights (per item, like scikit-learn's 1 / (C·n)); default 1e-3. */
  l2?: number;
  epochs?: number;
  learningRate?: number;
  batchSize?: number;
  seed?: number;
  /** Weight each item by n / (categories × its category's count), so rare categories count (default true). */
  balanced?: boolean;
  /** Called after each epoch with the mean training loss. */
  onEpoch?: (epoch: number, loss: number) => void;
}

/** 20 passes: on one CIFAR-10 fold, 40 scored no better (0.70–0.72 vs 0.72) and took twice as long. */
export const DEFAULT_EPOCHS = 20;

export function classWeights(y: Int32Array, classes: number, balanced: boolean): Float32Array {
  const w = new Float32Array(classes).fill(1);
  if (!balanced) return w;
  const counts = new Float64Array(classes);
  for (const c of y) counts[c]!++;
  const present = counts.filter((c) => c > 0).length;
  for (let c = 0; c < classes; c++) w[c] = counts[c]! > 0 ? y.length / (present * counts[c]!) : 0;
  return w;
}

/** Trains a softmax classifier on standardised rows `x` (n × dim) with labels `y` in [0, classes). */
export function trainSoftmax(x: Float32Array, y: Int32Array, dim: number, classes: number, opts: SoftmaxTrainOptions = {}): LinearLayer {
  const n = y.length;
  const l2 = opts.l2 ?? 1e-3;
  const epochs = opts.epochs ?? DEFAULT_EPOCHS;
  const lr0 = opts.learningRate ?? 1e-3;
  const bs = Math.min(n, opts.batchSize ?? 128);
  const rng = new Rng(opts.seed ?? 1);
  const cw = classWeights(y, classes, opts.balanced ?? true);
  const layer: LinearLayer = { inputs: dim, outputs: classes, weights: new Float32Array(classes * dim), bias: new Float32Array(classes) };
  const W = layer.weights;
  const b = layer.bias;
  // Adam state.
  const mW = new Float32Array(W.length);
  const vW = new Float32Array(W.length);
  const mB = new Float32Array(classes);
  const vB = new Float32Array(classes);
  const gW = new Float32Array(W.length);
  const gB = new Float32Array(classes);
  const beta1 = 0.9;
  const beta2 = 0.999;
  let step = 0;
  const order = Array.from({ length: n }, (_, i) => i);
  const logits = new Float32Array(bs * classes);
  const rows = new Float32Array(bs * dim);
  const steps = epochs * Math.ceil(n / bs);
  for (let epoch = 0; epoch < epochs; epoch++) {
    rng.shuffle(order);
    let lossSum = 0;
    for (let start = 0; start < n; start += bs) {
      const m = Math.min(bs, n - start);
      for (let r = 0; r < m; r++) rows.set(x.subarray(order[start + r]! * dim, (order[start + r]! + 1) * dim), r * dim);
      linearForward(layer, rows, m, logits);
      softmaxRows(logits.subarray(0, m * classes), classes);
      gW.fill(0);
      gB.fill(0);
      let wsum = 0;
      for (let r = 0; r < m; r++) wsum += cw[y[order[start + r]!]!]!;
      const inv = wsum > 0 ? 1 / wsum : 0;
      for (let r = 0; r < m; r++) {
        const label = y[order[start + r]!]!;
        const w = cw[label]! * inv;
        lossSum -= cw[label]! * Math.log(Math.max(1e-12, logits[r * classes + label]!));
        const xo = r * dim;
        for (let c = 0; c < classes; c++) {
          const g = (logits[r * classes + c]! - (c === label ? 1 : 0)) * w;
          if (g === 0) continue;
          gB[c]! += g;
          const wo = c * dim;
          for (let j = 0; j < dim; j++) gW[wo + j]! += g * rows[xo + j]!;
        }
      }
      step++;
      // Cosine decay to a tenth of the rate: large early steps, a settled end.
      const lr = lr0 * (0.1 + 0.9 * 0.5 * (1 + Math.cos((Math.PI * step) / steps)));
      const c1 = 1 / (1 - beta1 ** step);
      const c2 = 1 / (1 - beta2 ** step);
      for (let i = 0; i < W.length; i++) {
        const g = gW[i]! + l2 * W[i]!;
        mW[i] = beta1 * mW[i]! + (1 - beta1) * g;
        vW[i] = beta2 * vW[i]! + (1 - beta2) * g * g;
        W[i]! -= (lr * mW[i]! * c1) / (Math.sqrt(vW[i]! * c2) + 1e-8);
      }
      for (let c = 0; c < classes; c++) {
        const g = gB[c]!;
        mB[c] = beta1 * mB[c]! + (1 - beta1) * g;
        vB[c] = beta2 * vB[c]! + (1 - beta2) * g * g;
        b[c]! -= (lr * mB[c]! * c1) / (Math.sqrt(vB[c]! * c2) + 1e-8);
      }
    }
    opts.onEpoch?.(epoch, lossSum / n);
  }
  return layer;
}
