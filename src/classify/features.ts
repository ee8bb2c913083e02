/**
 * What a category classifier reads: the features Visor already stores for every item, so
 * training and prediction need no extra model run.
 * - `features`: the 1280-d pooled image features (L2-normalised);
 * - `logProbs`: log of the 1000 ImageNet class probabilities (what the image model thinks it
 *   sees; logs, since the probabilities span many orders of magnitude).
 */
export type ClassifierInput = 'features' | 'logProbs';

export const DEFAULT_INPUTS: readonly ClassifierInput[] = ['features', 'logProbs'];

/** Stored features of `count` items, row-major. */
export interface FeatureRows {
  count: number;
  /** count × featureDim */
  features: Float32Array;
  /** count × numClasses */
  probs: Float32Array;
}

const PROB_FLOOR = 1e-4; // half-precision storage rounds tiny probabilities to 0

export function inputDim(inputs: readonly ClassifierInput[], featureDim: number, numClasses: number): number {
  return inputs.reduce((s, i) => s + (i === 'features' ? featureDim : numClasses), 0);
}

/** The classifier's input matrix (count × inputDim) from stored rows. */
export function buildInputs(rows: FeatureRows, inputs: readonly ClassifierInput[]): { x: Float32Array; dim: number } {
  const n = rows.count;
  const fd = n > 0 ? rows.features.length / n : 0;
  const pd = n > 0 ? rows.probs.length / n : 0;
  const dim = inputDim(inputs, fd, pd);
  const x = new Float32Array(n * dim);
  for (let i = 0; i < n; i++) {
    let o = i * dim;
    for (const inp of inputs) {
      if (inp === 'features') {
        x.set(rows.features.subarray(i * fd, (i + 1) * fd), o);
        o += fd;
      } else {
        for (let j = 0; j < pd; j++) x[o + j] = Math.log(rows.probs[i * pd + j]! + PROB_FLOOR);
        o += pd;
      }
    }
  }
  return { x, dim };
}

/** Per-column mean and standard deviation, for standardising inputs. */
export interface Standardizer {
  mean: Float32Array;
  scale: Float32Array;
}

/** Standardises rows in place. */
export function standardize(x: Float32Array, dim: number, s: Standardizer): Float32Array {
  for (let o = 0; o < x.length; o += dim) {
    for (let j = 0; j < dim; j++) x[o + j] = (x[o + j]! - s.mean[j]!) * s.scale[j]!;
  }
  return x;
}
