import fs from 'node:fs';
import os from 'node:os';
import * as ort from 'onnxruntime-node';
import { VisorError } from '../../errors.js';
import type { ClipTokenizer } from '../../text/clip-tokenizer.js';
import type { ImagePreprocessor } from './preprocess.js';
import { EXACT_INT8_SESSION } from '../int8-precision.js';

export interface TowerOptions {
  /** Inference threads (default: all cores). */
  threads?: number;
  /** Let idle inference threads spin (see MobileNetOptions.spinning). */
  spinning?: boolean;
}

/**
 * A tower ONNX file, loaded. Dynamically quantized exports (the int8 files transformers.js
 * publishes) quantize activations with a scale computed over the whole input tensor, so an
 * item's embedding would depend on what else is in its batch; such models run one item at a
 * time, which keeps an image's vector a function of the image alone.
 */
async function openTower(file: string, opts: TowerOptions): Promise<{ session: ort.InferenceSession; perItem: boolean }> {
  const bytes = fs.readFileSync(file);
  // Operator names are plain strings in the protobuf: a byte search finds the op without
  // decoding a 90 MB graph (a false hit only costs batching).
  const perItem = bytes.includes('DynamicQuantizeLinear');
  const session = await ort.InferenceSession.create(bytes, {
    intraOpNumThreads: opts.threads ?? os.availableParallelism(),
    interOpNumThreads: 1,
    graphOptimizationLevel: 'all',
    extra: { session: { ...EXACT_INT8_SESSION, intra_op: { allow_spinning: opts.spinning === false ? '0' : '1' } } },
  });
  return { session, perItem };
}

/** The embedding output: CLIP exports name it `*_embeds`; SigLIP's pooled output is the embedding. */
function embeddingOutput(session: ort.InferenceSession, preferred: string, file: string): string {
  const name = [preferred, 'pooler_output'].find((n) => session.outputNames.includes(n));
  if (!name) throw new VisorError('MODEL_NOT_FOUND', `${file} has no ${preferred} or pooler_output output (it has ${session.outputNames.join(', ')})`);
  return name;
}

function normalizeRows(data: Float32Array, rows: number, dim: number, out: Float32Array, outOffset: number): void {
  for (let i = 0; i < rows; i++) {
    let norm = 0;
    for (let j = 0; j < dim; j++) norm += data[i * dim + j]! ** 2;
    const inv = norm > 0 ? 1 / Math.sqrt(norm) : 0;
    for (let j = 0; j < dim; j++) out[outOffset + i * dim + j] = data[i * dim + j]! * inv;
  }
}

/** Runs `count` items through a tower (whole, or one at a time) into L2-normalised rows. */
async function runRows(
  session: ort.InferenceSession,
  output: string,
  perItem: boolean,
  count: number,
  dim: number,
  feeds: (start: number, n: number) => ort.InferenceSession.FeedsType,
): Promise<Float32Array> {
  const out = new Float32Array(count * dim);
  const step = perItem ? 1 : Math.max(1, count);
  for (let start = 0; start < count; start += step) {
    const n = Math.min(step, count - start);
    const result = await session.run(feeds(start, n));
    const t = result[output]!;
    if (t.dims.length !== 2 || t.dims[0] !== n || t.dims[1] !== dim) {
      throw new VisorError('MODEL_NOT_FOUND', `model output ${output} has shape [${t.dims.join(', ')}], expected [${n}, ${dim}]`);
    }
    normalizeRows(t.data as Float32Array, n, dim, out, start * dim);
  }
  return out;
}

/** The image tower: preprocessed pixels in, one L2-normalised embedding per image out. */
export class VisionTower {
  private constructor(
    private readonly session: ort.InferenceSession,
    private readonly input: string,
    private readonly output: string,
    readonly perItem: boolean,
    readonly dimension: number,
    readonly pre: ImagePreprocessor,
  ) {}

  static async open(file: string, pre: ImagePreprocessor, dimension: number, opts: TowerOptions = {}): Promise<VisionTower> {
    const { session, perItem } = await openTower(file, opts);
    const input = session.inputNames.includes('pixel_values') ? 'pixel_values' : session.inputNames.length === 1 ? session.inputNames[0]! : null;
    if (!input) throw new VisorError('MODEL_NOT_FOUND', `${file} has no pixel_values input (it has ${session.inputNames.join(', ')})`);
    return new VisionTower(session, input, embeddingOutput(session, 'image_embeds', file), perItem, dimension, pre);
  }

  /** Embeds `count` images given as CHW floats (count × 3 × height × width). */
  run(pixels: Float32Array, count: number): Promise<Float32Array> {
    const { width, height } = this.pre;
    const size = 3 * width * height;
    return runRows(this.session, this.output, this.perItem, count, this.dimension, (start, n) => ({
      [this.input]: new ort.Tensor('float32', pixels.subarray(start * size, (start + n) * size), [n, 3, height, width]),
    }));
  }

  async close(): Promise<void> {
    await this.session.release();
  }
}

/**
 * The text tower: token ids (padded to the context length) in, one L2-normalised embedding
 * per text out. CLIP exports take only `input_ids`; an attention mask is fed when the model
 * asks for one.
 */
export class TextTower {
  private constructor(
    private readonly session: ort.InferenceSession,
    private readonly output: string,
    readonly perItem: boolean,
    readonly dimension: number,
    readonly tokenizer: ClipTokenizer,
    readonly contextLength: number,
  ) {}

  static async open(file: string, tokenizer: ClipTokenizer, contextLength: number, dimension: number, opts: TowerOptions = {}): Promise<TextTower> {
    const { session, perItem } = await openTower(file, opts);
    const unknown = session.inputNames.filter((n) => n !== 'input_ids' && n !== 'attention_mask');
    if (!session.inputNames.includes('input_ids') || unknown.length > 0) {
      throw new VisorError('MODEL_NOT_FOUND', `${file} takes inputs ${session.inputNames.join(', ')}; expected input_ids (and optionally attention_mask)`);
    }
    return new TextTower(session, embeddingOutput(session, 'text_embeds', file), perItem, dimension, tokenizer, contextLength);
  }

  run(texts: readonly string[]): Promise<Float32Array> {
    const L = this.contextLength;
    const batch = this.tokenizer.encodeBatch(texts, L);
    const wantsMask = this.session.inputNames.includes('attention_mask');
    return runRows(this.session, this.output, this.perItem, texts.length, this.dimension, (start, n) => ({
      input_ids: new ort.Tensor('int64', batch.ids.subarray(start * L, (start + n) * L), [n, L]),
      ...(wantsMask ? { attention_mask: new ort.Tensor('int64', batch.attentionMask.subarray(start * L, (start + n) * L), [n, L]) } : {}),
    }));
  }

  async close(): Promise<void> {
    await this.session.release();
  }
}
