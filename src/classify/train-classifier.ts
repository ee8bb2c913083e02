/**
 * Training the category classifier (`visor-lab train classify`, and the cross-validation `visor eval labels` reports): k-fold cross-validation,
 * temperature calibration, and the final fit on every labelled item. The product loads and runs
 * the result (src/classify/category-classifier.ts).
 */

import { VisorError } from '../errors.js';
import { CategoryClassifier, meanInto } from './category-classifier.js';
import { buildInputs, DEFAULT_INPUTS, standardize, type ClassifierInput, type FeatureRows, type Standardizer } from './features.js';
import { linearForward, softmaxRows, type LinearLayer } from './softmax.js';
import { fitTemperature } from './calibrate.js';
import { stratifiedFolds, splitFold, takeRows } from './folds.js';
import { DEFAULT_EPOCHS, trainSoftmax, type SoftmaxTrainOptions } from './train-softmax.js';

export interface TrainClassifierOptions extends Omit<SoftmaxTrainOptions, 'onEpoch'> {
  inputs?: readonly ClassifierInput[];
  /** Folds of the cross-validation that measures accuracy and calibrates (default 5). */
  folds?: number;
  /** The catalogue column the labels came from (recorded in the file). */
  column?: string;
  /**
   * Features of each row's left–right mirror image (same order): trained on as extra samples,
   * and averaged with the image at prediction (the classifier is marked `mirror`).
   */
  mirrored?: FeatureRows;
  imageModel?: string;
  /**
   * Fit each fold's temperature (default true). Accuracy and the confusion matrix do not depend
   * on it, so a caller that only measures them skips the extra fit per fold.
   */
  calibrate?: boolean;
  onProgress?: (stage: string, done: number, total: number) => void;
}

/** Out-of-fold predictions: every item predicted by a model that never saw it. */
export interface CrossValidation {
  folds: number;
  categories: string[];
  /** Per item: its true category index, the fold it was held out in, the category predicted. */
  labels: Int32Array;
  foldOf: Int32Array;
  predicted: Int32Array;
  /** count × categories calibrated probabilities (each fold's own temperature). */
  probs: Float32Array;
  accuracy: number;
  /** Mean per-category recall: accuracy with every category counting the same. */
  balancedAccuracy: number;
  /** confusion[true][predicted] counts. */
  confusion: number[][];
  /** The fold models, in fold order. */
  models: CategoryClassifier[];
}

/** The classifier's inputs for the rows and, when given, their mirrors (rows count … 2·count − 1). */
function inputsWithMirror(rows: FeatureRows, inputs: readonly ClassifierInput[], mirrored?: FeatureRows): { x: Float32Array; dim: number; mirrorOffset: number } {
  const a = buildInputs(rows, inputs);
  if (!mirrored) return { ...a, mirrorOffset: -1 };
  if (mirrored.count !== rows.count) throw new VisorError('QUERY_INVALID', `${rows.count} images but ${mirrored.count} mirror images`);
  const b = buildInputs(mirrored, inputs);
  const x = new Float32Array(a.x.length * 2);
  x.set(a.x);
  x.set(b.x, a.x.length);
  return { x, dim: a.dim, mirrorOffset: rows.count };
}

/** Training rows `idx` plus, with mirrors, the same items' mirror rows. */
function withMirrors(idx: Int32Array, mirrorOffset: number): Int32Array {
  if (mirrorOffset < 0) return idx;
  const out = new Int32Array(idx.length * 2);
  out.set(idx);
  idx.forEach((i, r) => (out[idx.length + r] = i + mirrorOffset));
  return out;
}

function categoryIndex(labels: readonly string[]): { categories: string[]; y: Int32Array } {
  const categories = [...new Set(labels)].sort();
  const index = new Map(categories.map((c, i) => [c, i]));
  return { categories, y: Int32Array.from(labels, (l) => index.get(l)!) };
}

/** Per-column mean and inverse standard deviation of the training rows. */
function fitStandardizer(x: Float32Array, n: number, dim: number): Standardizer {
  const mean = new Float64Array(dim);
  const sq = new Float64Array(dim);
  for (let i = 0; i < n; i++) {
    const o = i * dim;
    for (let j = 0; j < dim; j++) mean[j]! += x[o + j]!;
  }
  for (let j = 0; j < dim; j++) mean[j]! /= Math.max(1, n);
  for (let i = 0; i < n; i++) {
    const o = i * dim;
    for (let j = 0; j < dim; j++) sq[j]! += (x[o + j]! - mean[j]!) ** 2;
  }
  const scale = new Float32Array(dim);
  // A floor keeps near-constant columns (a class no image shows) from blowing up.
  for (let j = 0; j < dim; j++) scale[j] = 1 / (Math.sqrt(sq[j]! / Math.max(1, n)) + 1e-3);
  return { mean: Float32Array.from(mean), scale };
}

/** One softmax fit on the rows `idx` of the input matrix: standardiser + layer. */
function fitRows(x: Float32Array, dim: number, y: Int32Array, idx: Int32Array, classes: number, opts: SoftmaxTrainOptions) {
  const xs = takeRows(x, dim, idx);
  const ys = Int32Array.from(idx, (i) => y[i]!);
  const standardizer = fitStandardizer(xs, idx.length, dim);
  standardize(xs, dim, standardizer);
  return { standardizer, layer: trainSoftmax(xs, ys, dim, classes, opts) };
}

function logitsOf(fit: { standardizer: Standardizer; layer: LinearLayer }, x: Float32Array, dim: number, idx: Int32Array, mirrorOffset = -1): Float32Array {
  const l = linearForward(fit.layer, standardize(takeRows(x, dim, idx), dim, fit.standardizer), idx.length);
  if (mirrorOffset < 0) return l;
  const m = Int32Array.from(idx, (i) => i + mirrorOffset);
  return meanInto(l, linearForward(fit.layer, standardize(takeRows(x, dim, m), dim, fit.standardizer), idx.length));
}

/**
 * A fold's temperature without touching the fold's held-out items: a model on 80 % of the
 * fold's training items is scored on the other 20 %.
 */
function innerTemperature(
  x: Float32Array,
  dim: number,
  y: Int32Array,
  train: Int32Array,
  classes: number,
  opts: SoftmaxTrainOptions,
  mirrorOffset: number,
): number {
  const inner = stratifiedFolds(
    Int32Array.from(train, (i) => y[i]!),
    5,
    (opts.seed ?? 1) + 7919,
  );
  const { train: a, test: b } = splitFold(inner, 0);
  const fit = fitRows(
    x,
    dim,
    y,
    withMirrors(
      Int32Array.from(a, (i) => train[i]!),
      mirrorOffset,
    ),
    classes,
    opts,
  );
  const held = Int32Array.from(b, (i) => train[i]!);
  return fitTemperature(
    logitsOf(fit, x, dim, held, mirrorOffset),
    Int32Array.from(held, (i) => y[i]!),
    classes,
  );
}

function trainingRecord(opts: TrainClassifierOptions, items: number): Record<string, unknown> {
  return {
    items,
    l2: opts.l2 ?? 1e-3,
    epochs: opts.epochs ?? DEFAULT_EPOCHS,
    learningRate: opts.learningRate ?? 1e-3,
    batchSize: opts.batchSize ?? 128,
    balanced: opts.balanced ?? true,
    seed: opts.seed ?? 1,
  };
}

function requireTwoCategories(categories: string[]): void {
  if (categories.length < 2) throw new VisorError('QUERY_INVALID', `a classifier needs at least two categories; the labels hold ${categories.length}`);
}

/**
 * k-fold cross-validation: for each fold a classifier is trained on the other folds (its
 * temperature from an inner split of those), and predicts the fold's items. No item is ever
 * predicted by a model that saw its label.
 */
export function crossValidate(rows: FeatureRows, labels: readonly string[], opts: TrainClassifierOptions = {}): CrossValidation {
  const { categories, y } = categoryIndex(labels);
  requireTwoCategories(categories);
  const k = categories.length;
  const folds = opts.folds ?? 5;
  const inputs = opts.inputs ?? DEFAULT_INPUTS;
  const { x, dim, mirrorOffset } = inputsWithMirror(rows, inputs, opts.mirrored);
  // A mirror row has its image's label.
  const yx = mirrorOffset < 0 ? y : Int32Array.from({ length: 2 * y.length }, (_, i) => y[i % y.length]!);
  const foldOf = stratifiedFolds(y, folds, opts.seed ?? 1);
  const probs = new Float32Array(rows.count * k);
  const predicted = new Int32Array(rows.count);
  const models: CategoryClassifier[] = [];
  for (let f = 0; f < folds; f++) {
    opts.onProgress?.('cross-validation', f, folds);
    const { train, test } = splitFold(foldOf, f);
    const fitOpts = { ...opts, seed: (opts.seed ?? 1) + f };
    const temperature = opts.calibrate === false ? 1 : innerTemperature(x, dim, yx, train, k, fitOpts, mirrorOffset);
    const fit = fitRows(x, dim, yx, withMirrors(train, mirrorOffset), k, fitOpts);
    const p = softmaxRows(logitsOf(fit, x, dim, test, mirrorOffset), k, temperature);
    test.forEach((item, r) => {
      probs.set(p.subarray(r * k, (r + 1) * k), item * k);
      let best = 0;
      for (let c = 1; c < k; c++) if (p[r * k + c]! > p[r * k + best]!) best = c;
      predicted[item] = best;
    });
    models.push(
      new CategoryClassifier(
        `fold${f}`,
        categories,
        inputs,
        fit.standardizer,
        fit.layer,
        temperature,
        {
          column: opts.column ?? null,
          imageModel: opts.imageModel ?? null,
          training: { ...trainingRecord(fitOpts, train.length), fold: f },
          crossValidation: null,
        },
        mirrorOffset >= 0,
      ),
    );
  }
  opts.onProgress?.('cross-validation', folds, folds);
  const confusion = categories.map(() => new Array<number>(k).fill(0));
  let correct = 0;
  for (let i = 0; i < rows.count; i++) {
    confusion[y[i]!]![predicted[i]!]!++;
    if (predicted[i] === y[i]) correct++;
  }
  const recalls = confusion.map(
    (row, c) =>
      row[c]! /
      Math.max(
        1,
        row.reduce((s, v) => s + v, 0),
      ),
  );
  return {
    folds,
    categories,
    labels: y,
    foldOf,
    predicted,
    probs,
    accuracy: correct / Math.max(1, rows.count),
    balancedAccuracy: recalls.reduce((s, r) => s + r, 0) / k,
    confusion,
    models,
  };
}

/**
 * Trains the classifier to deploy: cross-validated first (accuracy, confusion, and the
 * temperature, fitted on the out-of-fold scores), then fitted on every labelled item.
 */
export function trainCategoryClassifier(
  rows: FeatureRows,
  labels: readonly string[],
  opts: TrainClassifierOptions = {},
): { classifier: CategoryClassifier; crossValidation: CrossValidation } {
  const cv = crossValidate(rows, labels, opts);
  const k = cv.categories.length;
  // Out-of-fold logits, recovered from each fold model, calibrate the final model.
  const oofLogits = new Float32Array(rows.count * k);
  cv.models.forEach((m, f) => {
    const idx = splitFold(cv.foldOf, f).test;
    const sub: FeatureRows = {
      count: idx.length,
      features: takeRows(rows.features, rows.features.length / rows.count, idx),
      probs: takeRows(rows.probs, rows.probs.length / rows.count, idx),
    };
    const msub: FeatureRows | undefined = opts.mirrored && {
      count: idx.length,
      features: takeRows(opts.mirrored.features, opts.mirrored.features.length / rows.count, idx),
      probs: takeRows(opts.mirrored.probs, opts.mirrored.probs.length / rows.count, idx),
    };
    const l = m.logits(sub, msub);
    idx.forEach((item, r) => oofLogits.set(l.subarray(r * k, (r + 1) * k), item * k));
  });
  const temperature = fitTemperature(oofLogits, cv.labels, k);
  opts.onProgress?.('final model', 0, 1);
  const inputs = opts.inputs ?? DEFAULT_INPUTS;
  const { x, dim, mirrorOffset } = inputsWithMirror(rows, inputs, opts.mirrored);
  const all = Int32Array.from({ length: rows.count }, (_, i) => i);
  const yx = mirrorOffset < 0 ? cv.labels : Int32Array.from({ length: 2 * rows.count }, (_, i) => cv.labels[i % rows.count]!);
  const fit = fitRows(x, dim, yx, withMirrors(all, mirrorOffset), k, opts);
  opts.onProgress?.('final model', 1, 1);
  const id = `clf-${opts.column ?? 'category'}-${Date.now().toString(36)}`;
  const classifier = new CategoryClassifier(
    id,
    cv.categories,
    inputs,
    fit.standardizer,
    fit.layer,
    temperature,
    {
      column: opts.column ?? null,
      imageModel: opts.imageModel ?? null,
      training: trainingRecord(opts, rows.count),
      crossValidation: { folds: cv.folds, accuracy: cv.accuracy, balancedAccuracy: cv.balancedAccuracy },
    },
    mirrorOffset >= 0,
  );
  return { classifier, crossValidation: cv };
}
