import { resolvePaths, type VisorPaths } from '../config.js';
import { VisorError } from '../errors.js';
import { UNK, WordTokenizer } from '../text/word-tokenizer.js';
import { readJointFile, type JointHeader } from './joint-format.js';
import { hubnessBias, type QueryBank } from './query-bank.js';
import { encodeImageInput, encodeTokens, imageInput, parameterShapes, type JointArchitecture, type Params } from './joint-net.js';
import { resolveJointModel } from './resolve.js';
import { loadTf, type Tf } from './tf-runtime.js';

const CHUNK = 512;

/**
 * A trained joint text–image embedding: sentences and images (through the image model's
 * features and class probabilities) become unit vectors in one space, where the inner product
 * ranks captions for an image and images for a caption. Independent of any index: callers
 * hand it stored features and get joint vectors back.
 */
interface Member {
  architecture: JointArchitecture;
  params: Params;
  tokenizer: WordTokenizer;
  /** Offset of this member's block in the model's vectors. */
  offset: number;
}

export class JointModel {
  private constructor(
    private readonly tf: Tf,
    private readonly members: Member[],
    readonly header: JointHeader,
    readonly file: string,
    /** Querybank normalisation of images (for text queries) and of captions (for image queries). */
    private readonly banks: { text: QueryBank | null; image: QueryBank | null } = { text: null, image: null },
  ) {}

  /** Loads a `.joint` file, by path or by name (models search path, then the user cache). */
  static async load(ref: string, paths: VisorPaths = resolvePaths()): Promise<JointModel> {
    const file = resolveJointModel(ref, paths);
    const { header, tensors } = readJointFile(file);
    return JointModel.fromTensors(header, tensors, file);
  }

  /** Builds a model from a header and tensors in memory (training evaluates ensembles this way). */
  static async fromTensors(header: JointHeader, tensors: Map<string, Float32Array>, file = '<memory>'): Promise<JointModel> {
    const tf = await loadTf();
    const members: Member[] = [];
    let offset = 0;
    for (const m of header.members) {
      if (m.architecture.image.featureDim !== header.members[0]!.architecture.image.featureDim)
        throw new VisorError('MODEL_INVALID', `${file}: members read different image features`);
      const params: Params = new Map();
      for (const [name, shape] of Object.entries(parameterShapes(m.architecture))) {
        const data = tensors.get(m.prefix + name);
        if (!data) throw new VisorError('MODEL_INVALID', `${file} lacks tensor ${m.prefix + name}`);
        params.set(name, tf.tensor(data, shape));
      }
      members.push({ architecture: m.architecture, params, tokenizer: new WordTokenizer(m.tokenizer), offset });
      offset += m.architecture.dimension;
    }
    if (members.length === 0 || offset !== header.dimension)
      throw new VisorError('MODEL_INVALID', `${file}: members add up to ${offset} dimensions, header says ${header.dimension}`);
    const bank = (side: 'text' | 'image'): QueryBank | null => {
      const beta = header.queryBanks?.[side]?.beta;
      const vectors = tensors.get(`bank.${side}`);
      if (beta === undefined || !vectors) return null;
      if (vectors.length % header.dimension !== 0) throw new VisorError('MODEL_INVALID', `${file}: bank.${side} is not rows of ${header.dimension}`);
      return { vectors, rows: vectors.length / header.dimension, beta };
    };
    return new JointModel(tf, members, header, file, { text: bank('text'), image: bank('image') });
  }

  /** Size of the joint space. */
  get dimension(): number {
    return this.header.dimension;
  }

  /** The image model whose outputs encodeImages expects. */
  get imageModel(): string {
    return this.header.imageModel;
  }

  /** Whether encodeImages needs the class probabilities. */
  get usesProbs(): boolean {
    return this.numClasses > 0;
  }

  /** Class probabilities per image that encodeImages reads (0: none). */
  get numClasses(): number {
    return Math.max(...this.members.map((m) => m.architecture.image.numClasses));
  }

  get featureDim(): number {
    return this.members[0]!.architecture.image.featureDim;
  }

  /** Writes each member's block of rows [start, start+n) into `out`, scaled for the concatenation. */
  private place(out: Float32Array, start: number, n: number, m: Member, y: Float32Array): void {
    const D = this.dimension;
    const d = m.architecture.dimension;
    const scale = 1 / Math.sqrt(this.members.length);
    for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) out[(start + i) * D + m.offset + j] = y[i * d + j]! * scale;
  }

  /** Whether any word of `text` is in a member's vocabulary (otherwise its vector says nothing). */
  knows(text: string): boolean {
    return this.members.some((m) => m.tokenizer.encode(text).some((id) => id !== UNK));
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
      for (const m of this.members) {
        const { ids, lengths, width } = m.tokenizer.encodeBatch(part);
        const y = this.tf.tidy(() =>
          encodeTokens(this.tf, m.params, m.architecture, this.tf.tensor2d(ids, [part.length, width], 'int32'), this.tf.tensor1d(lengths, 'int32')),
        );
        this.place(out, start, part.length, m, y.dataSync() as Float32Array);
        y.dispose();
      }
    }
    return out;
  }

  /**
   * Image-model outputs (n × featureDim L2-normalised features, n × numClasses probabilities)
   * → n × dimension, each row L2-normalised.
   */
  encodeImages(features: Float32Array, probs: Float32Array | undefined, n: number): Float32Array {
    const F = this.featureDim;
    const C = this.numClasses;
    if (features.length !== n * F) throw new VisorError('QUERY_INVALID', `expected ${n}×${F} image features, got ${features.length} values`);
    if (C > 0 && (!probs || probs.length < n * C)) throw new VisorError('QUERY_INVALID', `this joint model needs ${n}×${C} class probabilities`);
    const out = new Float32Array(n * this.dimension);
    for (let start = 0; start < n; start += CHUNK) {
      const m = Math.min(CHUNK, n - start);
      for (const member of this.members) {
        const a = member.architecture;
        const y = this.tf.tidy(() => {
          const f = this.tf.tensor2d(features.subarray(start * F, (start + m) * F), [m, F]);
          const p = a.image.numClasses > 0 ? this.tf.tensor2d(probs!.subarray(start * C, (start + m) * C), [m, C]) : null;
          return encodeImageInput(this.tf, member.params, a, imageInput(this.tf, member.params, a, f, p));
        });
        this.place(out, start, m, member, y.dataSync() as Float32Array);
        y.dispose();
      }
    }
    return out;
  }

  /**
   * What to add to each image's cosine for a text query (querybank normalisation: lowers images
   * close to every caption); zeros when the model has no caption bank.
   */
  imageBias(imageVectors: Float32Array, n: number): Float32Array {
    return hubnessBias(this.banks.text, imageVectors, n, this.dimension, (b, g) => this.score(b, g));
  }

  /** The same for captions ranked for an image query, from the bank of training images. */
  textBias(textVectors: Float32Array, n: number): Float32Array {
    return hubnessBias(this.banks.image, textVectors, n, this.dimension, (b, g) => this.score(b, g));
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
    for (const m of this.members) {
      for (const t of m.params.values()) t.dispose();
      m.params.clear();
    }
  }
}
