import fs from 'node:fs';
import { VisorError } from '../errors.js';
import { buildInputs, standardize, type ClassifierInput, type FeatureRows, type Standardizer } from './features.js';
import { linearForward, softmaxRows, type LinearLayer } from './softmax.js';

/**
 * Anything that turns an item's stored features into probabilities over named categories.
 * The trained classifier below is one; a zero-shot classifier (ImageNet concepts mapped to
 * category names, no labels needed) can implement the same interface and plug into
 * categorisation and narrowing unchanged (see `registerPredictorKind` in predictors.ts).
 */
export interface CategoryPredictor {
  /** Stable identifier, stored with every prediction it makes. */
  readonly id: string;
  readonly categories: readonly string[];
  /**
   * Whether predictions average the image and its left–right mirror (flip test-time
   * augmentation): callers that can embed the mirror pass its features as `mirrored`.
   */
  readonly mirror?: boolean;
  /** count × categories calibrated probabilities; `mirrored`: the same items' mirror images. */
  predict(rows: FeatureRows, mirrored?: FeatureRows): Float32Array;
}

/** The classifier file's JSON (written by the lab's training, read here). */
export interface ClassifierFile {
  format: 'visor-category-classifier';
  version: 1;
  id: string;
  column: string | null;
  imageModel: string | null;
  categories: string[];
  inputs: ClassifierInput[];
  temperature: number;
  standardizer: { mean: string; scale: string };
  layer: { inputs: number; outputs: number; weights: string; bias: string };
  training: Record<string, unknown>;
  crossValidation: { folds: number; accuracy: number; balancedAccuracy: number } | null;
  /** Trained with mirror images; predictions average the image and its mirror (absent: false). */
  mirror?: boolean;
}

const b64 = (a: Float32Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString('base64');
const fromB64 = (s: string) => {
  const buf = Buffer.from(s, 'base64');
  return new Float32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
};

/**
 * A trained, calibrated softmax classifier over a collection's own categories: loaded and run
 * here; trained by lab/train/classify (`visor-lab train classify`).
 */
export class CategoryClassifier implements CategoryPredictor {
  constructor(
    readonly id: string,
    readonly categories: readonly string[],
    readonly inputs: readonly ClassifierInput[],
    private readonly standardizer: Standardizer,
    private readonly layer: LinearLayer,
    readonly temperature: number,
    readonly meta: { column: string | null; imageModel: string | null; training: Record<string, unknown>; crossValidation: ClassifierFile['crossValidation'] },
    readonly mirror = false,
  ) {}

  private logitsOne(rows: FeatureRows): Float32Array {
    const { x, dim } = buildInputs(rows, this.inputs);
    if (dim !== this.layer.inputs) {
      throw new VisorError('QUERY_INVALID', `classifier ${this.id} expects ${this.layer.inputs} inputs, the stored features give ${dim}`);
    }
    return linearForward(this.layer, standardize(x, dim, this.standardizer), rows.count);
  }

  /** Uncalibrated scores, count × categories (the mean over image and mirror when `mirrored` is given). */
  logits(rows: FeatureRows, mirrored?: FeatureRows): Float32Array {
    const l = this.logitsOne(rows);
    if (!mirrored) return l;
    if (mirrored.count !== rows.count) throw new VisorError('QUERY_INVALID', `${rows.count} images but ${mirrored.count} mirror images`);
    return meanInto(l, this.logitsOne(mirrored));
  }

  predict(rows: FeatureRows, mirrored?: FeatureRows): Float32Array {
    return softmaxRows(this.logits(rows, mirrored), this.categories.length, this.temperature);
  }

  toJSON(): ClassifierFile {
    return {
      format: 'visor-category-classifier',
      version: 1,
      id: this.id,
      column: this.meta.column,
      imageModel: this.meta.imageModel,
      categories: [...this.categories],
      inputs: [...this.inputs],
      temperature: this.temperature,
      standardizer: { mean: b64(this.standardizer.mean), scale: b64(this.standardizer.scale) },
      layer: { inputs: this.layer.inputs, outputs: this.layer.outputs, weights: b64(this.layer.weights), bias: b64(this.layer.bias) },
      training: this.meta.training,
      crossValidation: this.meta.crossValidation,
      ...(this.mirror ? { mirror: true } : {}),
    };
  }

  static fromJSON(f: ClassifierFile): CategoryClassifier {
    if (f.format !== 'visor-category-classifier' || f.version !== 1) {
      throw new VisorError('QUERY_INVALID', 'not a Visor category classifier file (or from a newer Visor)');
    }
    const layer: LinearLayer = { inputs: f.layer.inputs, outputs: f.layer.outputs, weights: fromB64(f.layer.weights), bias: fromB64(f.layer.bias) };
    if (layer.weights.length !== layer.inputs * layer.outputs || layer.outputs !== f.categories.length) {
      throw new VisorError('QUERY_INVALID', `classifier ${f.id}: weights do not match its ${f.categories.length} categories`);
    }
    return new CategoryClassifier(
      f.id,
      f.categories,
      f.inputs,
      { mean: fromB64(f.standardizer.mean), scale: fromB64(f.standardizer.scale) },
      layer,
      f.temperature,
      { column: f.column, imageModel: f.imageModel, training: f.training, crossValidation: f.crossValidation },
      f.mirror === true,
    );
  }

  save(file: string): void {
    const tmp = `${file}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, `${JSON.stringify(this.toJSON())}\n`);
    fs.renameSync(tmp, file);
  }

  static load(file: string): CategoryClassifier {
    let text: string;
    try {
      text = fs.readFileSync(file, 'utf8');
    } catch (e) {
      const why = (e as NodeJS.ErrnoException).code === 'ENOENT' ? "no such file; make one with 'visor-lab train classify'" : (e as Error).message;
      throw new VisorError('NOT_FOUND', `cannot read classifier ${file}: ${why}`, { cause: e });
    }
    try {
      return CategoryClassifier.fromJSON(JSON.parse(text) as ClassifierFile);
    } catch (e) {
      if (e instanceof VisorError) throw e;
      throw new VisorError('QUERY_INVALID', `${file} is not a Visor category classifier: ${(e as Error).message}`, { cause: e });
    }
  }
}

/** a ← (a + b) / 2. */
export function meanInto(a: Float32Array, b: Float32Array): Float32Array {
  for (let i = 0; i < a.length; i++) a[i] = (a[i]! + b[i]!) / 2;
  return a;
}
