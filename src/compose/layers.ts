import { tf } from './tf.js';

/** Named trainable tensors of a model. */
export type Params = Record<string, tf.Variable>;

/** Gaussian samples from a seeded generator (Box–Muller), so initial weights are reproducible. */
export function gaussian(random: () => number, n: number, std: number): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i += 2) {
    const u = Math.max(random(), 1e-12);
    const v = random();
    const r = Math.sqrt(-2 * Math.log(u)) * std;
    out[i] = r * Math.cos(2 * Math.PI * v);
    if (i + 1 < n) out[i + 1] = r * Math.sin(2 * Math.PI * v);
  }
  return out;
}

/** Adds a dense layer's weight (He initialisation: the layers feed ReLUs) and zero bias. */
export function addDense(params: Params, name: string, inputs: number, outputs: number, random: () => number, gain = Math.sqrt(2)): void {
  params[`${name}.w`] = tf.variable(tf.tensor2d(gaussian(random, inputs * outputs, gain / Math.sqrt(inputs)), [inputs, outputs]), true);
  params[`${name}.b`] = tf.variable(tf.zeros([outputs]), true);
}

export function addVector(params: Params, name: string, values: number[]): void {
  params[name] = tf.variable(tf.tensor1d(values), true);
}

/**
 * x·w with the gradients written as plain products of explicitly transposed operands. The WASM
 * backend's matmul with a transposed first operand falls off its fast path (a dense layer's
 * weight gradient, xᵀ·dy, ran 8× slower than the forward product, and dy·wᵀ 10×);
 * materialising the smaller transposed operand first keeps every product on XNNPACK.
 */
export const matMulFast = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
  const [x, w, save] = args as [tf.Tensor2D, tf.Tensor2D, tf.GradSaveFunc];
  save([x, w]);
  return {
    value: tf.matMul(x, w),
    gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => {
      const [sx, sw] = saved as [tf.Tensor2D, tf.Tensor2D];
      const g = dy as tf.Tensor2D;
      // xᵀ·dy = (dyᵀ·x)ᵀ: transpose whichever of x and dy is smaller (transposes cost memory passes).
      const dw = sx.shape[1] <= g.shape[1] ? tf.matMul(tf.transpose(sx), g) : tf.transpose(tf.matMul(tf.transpose(g), sx));
      return [tf.matMul(g, tf.transpose(sw)), dw];
    },
  };
}) as (x: tf.Tensor2D, w: tf.Tensor2D) => tf.Tensor2D;

/** x·w + b for x of shape [n, inputs]. */
export function dense(params: Params, name: string, x: tf.Tensor2D): tf.Tensor2D {
  return tf.add(matMulFast(x, params[`${name}.w`] as tf.Tensor2D), params[`${name}.b`]!);
}

/** Rows scaled to unit length (cosine similarity becomes a dot product). */
export function l2Normalize(x: tf.Tensor2D): tf.Tensor2D {
  return tf.div(x, tf.sqrt(tf.add(tf.sum(tf.square(x), 1, true), 1e-12)));
}

/**
 * Non-overlapping k×k patches as channels: [b, h, w, c] → [b, h/k, w/k, k·k·c]. A dense layer
 * on the result is a convolution with stride equal to its kernel (a "patchify" layer), made of
 * reshapes and one product, all fast on WASM, whose convolution gradients are missing or slow.
 */
export function patchify(x: tf.Tensor4D, k: number): tf.Tensor4D {
  const [b, h, w, c] = x.shape;
  if (h % k !== 0 || w % k !== 0) throw new Error(`patchify: ${h}×${w} is not a multiple of ${k}`);
  return tf.reshape(tf.transpose(tf.reshape(x, [b, h / k, k, w / k, k, c]), [0, 1, 3, 2, 4, 5]), [b, h / k, w / k, k * k * c]);
}
