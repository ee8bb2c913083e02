/**
 * Multinomial logistic regression (softmax over a linear layer) on standardised inputs: the
 * prediction side. Plain typed-array loops, so prediction needs nothing loaded; training (with
 * mini-batch Adam) is in lab/train/classify/softmax.ts.
 */
export interface LinearLayer {
  inputs: number;
  outputs: number;
  /** outputs × inputs, row-major. */
  weights: Float32Array;
  bias: Float32Array;
}

/** logits = x W^T + b for `n` rows. */
export function linearForward(layer: LinearLayer, x: Float32Array, n: number, out = new Float32Array(n * layer.outputs)): Float32Array {
  const { inputs: d, outputs: k, weights: W, bias } = layer;
  for (let i = 0; i < n; i++) {
    const xo = i * d;
    for (let c = 0; c < k; c++) {
      const wo = c * d;
      let s = bias[c]!;
      for (let j = 0; j < d; j++) s += x[xo + j]! * W[wo + j]!;
      out[i * k + c] = s;
    }
  }
  return out;
}

/** Softmax of each row, in place; `temperature` divides the logits first. */
export function softmaxRows(logits: Float32Array, k: number, temperature = 1): Float32Array {
  for (let o = 0; o < logits.length; o += k) {
    let max = -Infinity;
    for (let c = 0; c < k; c++) max = Math.max(max, logits[o + c]! / temperature);
    let sum = 0;
    for (let c = 0; c < k; c++) {
      const e = Math.exp(logits[o + c]! / temperature - max);
      logits[o + c] = e;
      sum += e;
    }
    for (let c = 0; c < k; c++) logits[o + c]! /= sum;
  }
  return logits;
}
