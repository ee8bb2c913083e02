import fs from 'node:fs';
import { VisorError, errorMessage } from '../errors.js';
import type { ImageTable } from './image-table.js';
import type { Params } from './layers.js';
import { encodeImages, encodeTextFeatures, fuse, l2Normalize, type NetworkConfig } from './network.js';
import { encodeTexts, featureIndex, type TextVocabulary } from './text-features.js';
import { initTf, tf, type TfBackend } from './tf.js';

export const COMPOSE_FORMAT = 'visor-compose';
export const COMPOSE_VERSION = 1;

/** One training epoch's mean loss and time (the training code lives in lab/train/compose). */
export interface EpochLog {
  epoch: number;
  loss: number;
  seconds: number;
}

/** How a model was trained, saved with it. */
export interface TrainingSummary {
  triplets: number;
  images: number;
  epochs: number;
  batchSize: number;
  learningRate: number;
  seed: number;
  log: EpochLog[];
  seconds: number;
}

interface ModelFile {
  format: typeof COMPOSE_FORMAT;
  version: number;
  config: NetworkConfig;
  vocabulary: string[];
  training: TrainingSummary;
  weights: Record<string, { shape: number[]; data: string }>;
}

const BATCH = 256;

/**
 * A trained composition model: image encoder, text encoder and fusion module, with the text
 * vocabulary. Saved as one JSON file (weights as base64 float32), loaded without training code.
 */
export class ComposeModel {
  private readonly textIndex: Map<string, number>;

  constructor(
    readonly config: NetworkConfig,
    readonly vocabulary: TextVocabulary,
    private readonly params: Params,
    readonly training: TrainingSummary,
  ) {
    this.textIndex = featureIndex(vocabulary);
  }

  get dim(): number {
    return this.config.dim;
  }

  /**
   * φ of table rows (all rows by default), n × dim. `unit` scales each to length 1, as gallery
   * vectors are compared; the fusion module takes them as they come (`unit` false).
   */
  async embedImages(table: ImageTable, opts: { rows?: ArrayLike<number>; unit?: boolean } = {}): Promise<Float32Array> {
    const rows = opts.rows ?? Int32Array.from({ length: table.count }, (_, i) => i);
    const out = new Float32Array(rows.length * this.dim);
    for (let s = 0; s < rows.length; s += BATCH) {
      const part = Array.from({ length: Math.min(BATCH, rows.length - s) }, (_, i) => rows[s + i]!);
      const e = tf.tidy(() => {
        const f = encodeImages(this.config, this.params, table.batch(part));
        return opts.unit === false ? f : l2Normalize(f);
      });
      out.set(await e.data(), s * this.dim);
      e.dispose();
    }
    return out;
  }

  /**
   * Composed queries: f(φ(reference), ψ(text)) as unit vectors, one per text. `references`
   * holds φ of each reference as {@link embedImages} gives it with `unit: false`.
   */
  async composeEmbeddings(references: Float32Array, texts: readonly string[]): Promise<Float32Array> {
    if (references.length !== texts.length * this.dim) {
      throw new VisorError('QUERY_INVALID', `expected ${texts.length} reference embeddings of ${this.dim} values, got ${references.length} values`);
    }
    const v = this.vocabulary.features.length;
    const out = new Float32Array(texts.length * this.dim);
    for (let s = 0; s < texts.length; s += BATCH) {
      const m = Math.min(BATCH, texts.length - s);
      const { rows } = encodeTexts(texts.slice(s, s + m), this.textIndex);
      const e = tf.tidy(() => {
        const img = tf.tensor2d(references.subarray(s * this.dim, (s + m) * this.dim), [m, this.dim]);
        const txt = encodeTextFeatures(this.params, tf.tensor2d(rows, [m, v]));
        return l2Normalize(fuse(this.config, this.params, img, txt));
      });
      out.set(await e.data(), s * this.dim);
      e.dispose();
    }
    return out;
  }

  /** The share of a text's words and word pairs the model has never seen (0 = all known). */
  unknownShare(text: string): number {
    const { rows, unknown } = encodeTexts([text], this.textIndex);
    const known = rows.reduce((n, x) => n + (x > 0 ? 1 : 0), 0);
    return unknown[0]! / Math.max(1, unknown[0]! + known);
  }

  toJSON(): ModelFile {
    const weights: ModelFile['weights'] = {};
    for (const [name, v] of Object.entries(this.params)) {
      const data = v.dataSync() as Float32Array;
      weights[name] = { shape: v.shape, data: Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('base64') };
    }
    return { format: COMPOSE_FORMAT, version: COMPOSE_VERSION, config: this.config, vocabulary: this.vocabulary.features, training: this.training, weights };
  }

  save(file: string): void {
    fs.writeFileSync(file, JSON.stringify(this.toJSON()));
  }

  /** A model from its JSON form (TensorFlow.js must be started: {@link initTf}). */
  static fromJSON(m: ModelFile, where = 'composition model'): ComposeModel {
    if (m?.format !== COMPOSE_FORMAT) throw new VisorError('MODEL_UNKNOWN', `${where} is not a Visor composition model`);
    if (m.version > COMPOSE_VERSION)
      throw new VisorError('MODEL_UNKNOWN', `${where} was written by a newer Visor (format ${m.version}; this one reads ${COMPOSE_VERSION})`);
    const params: Params = {};
    for (const [name, w] of Object.entries(m.weights)) {
      const bytes = Buffer.from(w.data, 'base64');
      const values = new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
      params[name] = tf.variable(tf.tensor(values, w.shape), false);
    }
    return new ComposeModel(m.config, { features: m.vocabulary }, params, m.training);
  }

  /** Reads a model saved by {@link save} (starting TensorFlow.js if need be). */
  static async load(file: string, opts: { backend?: TfBackend } = {}): Promise<ComposeModel> {
    await initTf(opts.backend);
    let m: ModelFile;
    try {
      m = JSON.parse(fs.readFileSync(file, 'utf8')) as ModelFile;
    } catch (e) {
      throw new VisorError('MODEL_NOT_FOUND', `cannot read composition model ${file}: ${errorMessage(e)}`, { cause: e });
    }
    return ComposeModel.fromJSON(m, file);
  }

  dispose(): void {
    tf.dispose(Object.values(this.params));
  }
}
