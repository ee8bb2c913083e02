
import { resolvePaths, type VisorPaths } from '../config.js';
import { VisorError } from '../errors.js';
import { WordTokenizer } from '../text/word-tokenizer.js';
import { readJointFile, type JointHeader } from './joint-format.js';
import { encodeImageInput, encodeTokens, imageInput, parameterShapes, type Params } from './joint-net.js';
import { resolveJointModel } from './resolve.js';
import { loadTf, type Tf } from './tf-runtime.js';

const CHUNK = 512;

/**
 * A trained joint text–image embedding: sentences and images (through the image model's
 * features and class probabilities) become unit vectors in one space, where the inner product
 * ranks captions for an image and images for a caption. Independent of any index: callers
 * hand it stored features and get joint vectors back.
 */
export class JointModel {
  private constructor(
    private readonly tf: Tf,
    private readonly params: Params,
    readonly header: JointHeader,
    readonly file: string,
    private readonly tokenizer: WordTokenizer,
  ) {}

  /** Loads a `.joint` file, by path or by name (models search path, then the user cache). */
  static async load(ref: string, paths: VisorPaths = resolvePaths()): Promise<JointModel> {
    const file = resolveJointModel(ref, paths);
    const { header, tensors } = readJointFile(file);
    const tf = await loadTf();
    const shapes = parameterShapes(header.architecture);
    const params: Params = new Map();
    for (const [name, shape] of Object.entries(shapes)) {
      const data = tensors.get(name);
      if (!data) throw new VisorError('MODEL_INVALID', `${file} lacks tensor ${name}`);
      params.set(name, tf.tensor(data, shape));
    }
    return new JointModel(tf, params, header, file, new WordTokenizer(header.tokenizer));
  }

  /** Builds a model from tensors in memory (training hands its best weights over this way). */
  static async fromTensors(header: JointHeader, tensors: Map<string, Float32Array>, file = '<memory>'): Promise<JointModel> {
    const tf = await loadTf();
    const params: Params = new Map();
    for (const [name, shape] of Object.entries(parameterShapes(header.architecture))) params.set(name, tf.tensor(tensors.get(name)!, shape));
    return new JointModel(tf, params, header, file, new WordTokenizer(header.tokenizer));
  }

  /** Size of the joint space. */
  get dimension(): number {
    return this.header.architecture.dimension;
  }

  /** The image model whose outputs encodeImages expects. */
  get imageModel(): string {
    return this.header.imageModel;
  }

  /** Whether encodeImages needs the class probabilities. */
  get usesProbs(): boolean {
    return this.header.architecture.image.numClasses > 0;
  }

  get name(): string {
    return this.header.name;
  }

  /** n × dimension, each row L2-normalised. */
  encodeText(texts: readonly string[]): Float32Array {
    const D = this.dimension;
    const out = new Float32Array(texts.length * D);
    for (let start = 0; start < texts.length; start += CHUNK) {
      const part = texts.slice(start, start + CHUNK);
      const { ids, lengths, width } = this.tokenizer.encodeBatch(part);
      const y = this.tf.tidy(() => {
        const a = this.header.architecture;
        return encodeTokens(this.tf, this.params, a, this.tf.tensor2d(ids, [part.length, width], 'int32'), this.tf.tensor1d(lengths, 'int32'));
      });
      out.set(y.dataSync() as Float32Array, start * D);
      y.dispose();
    }
    return out;
  }

  /**
   * Image-model outputs (n × featureDim L2-normalised features, n × numClasses probabilities)
   * → n × dimension, each row L2-normalised.
   */
  encodeImages(features: Float32Array, probs: Float32Array | undefined, n: number): Float32Array {
    const a = this.header.architecture;
    const F = a.image.featureDim;
    const C = a.image.numClasses;
    if (features.length !== n * F) throw new VisorError('QUERY_INVALID', `expected ${n}×${F} image features, got ${features.length} values`);
    if (C > 0 && (!probs || probs.length < n * C)) throw new VisorError('QUERY_INVALID', `this joint model needs ${n}×${C} class probabilities`);
    const D = this.dimension;
    const out = new Float32Array(n * D);
    for (let start = 0; start < n; start += CHUNK) {
      const m = Math.min(CHUNK, n - start);
      const y = this.tf.tidy(() => {
        const f = this.tf.tensor2d(features.subarray(start * F, (start + m) * F), [m, F]);
        const p = C > 0 ? this.tf.tensor2d(probs!.subarray(start * C, (start + m) * C), [m, C]) : null;
        return encodeImageInput(this.tf, this.params, a, imageInput(this.tf, this.params, a, f, p));
      });
      out.set(y.dataSync() as Float32Array, start * D);
      y.dispose();
    }
    return out;
  }

  /** Cosine similarity of each text to each image, as a texts × images matrix (row-major). */
  score(textVectors: Float32Array, imageVectors: Float32Array): Float32Array {
    const D = this.dimension;
    const r = this.tf.tidy(() =>
      this.tf.matMul(this.tf.tensor2d(textVectors, [textVectors.length / D, D]), this.tf.tensor2d(imageVectors, [imageVectors.length / D, D]), false, true),
    );
    const s = r.dataSync() as Float32Array;
    r.dispose();
    return s;
  }

  close(): void {
    for (const t of this.params.values()) t.dispose();
    this.params.clear();
  }
}

