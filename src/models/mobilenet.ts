import fs from 'node:fs';
import os from 'node:os';
import * as ort from 'onnxruntime-node';
import {
  bypassInputQuantizer,
  decodeModel,
  encodeModel,
  exposeTensorAsOutput,
  firstConsumer,
  ONNX_FLOAT,
  ONNX_UINT8,
  readScalar,
  type OnnxModel,
} from './onnx-graph.js';
import { EXACT_INT8_SESSION } from './int8-precision.js';
import { MOBILENET_V2_INT8 } from './registry.js';
import type { ImageEmbeddings, ImageEncoder } from './types.js';
import { resolveModel, type ResolveOptions } from './resolve.js';

export interface ImageNetClass {
  index: number;
  /** WordNet 3.0 noun synset id, e.g. n02099601. */
  wnid: string;
  label: string;
}

export interface MobileNetOptions extends ResolveOptions {
  /** Inference threads (default: all cores). */
  threads?: number;
  /**
   * Let idle inference threads spin. Fastest for inference alone; off when decoding shares the
   * cores, since spinning threads steal the time the decoders need.
   */
  spinning?: boolean;
  /**
   * Also return the last 7×7×320 feature map (before the 1×1 expansion and pooling), for models
   * that need to know where things are in the image (composition training). Default false.
   */
  spatial?: boolean;
  /**
   * Also return the last convolution's activations (1280 × 7 × 7 a image, before pooling) for
   * localisation. Off by default: they are 49 times the size of the features.
   */
  activationMaps?: boolean;
}

const SIZE = 224;
const PIXELS = SIZE * SIZE; // a multiple of 4, so every slot's planes are 32-bit aligned
const LITTLE_ENDIAN = os.endianness() === 'LE';
const FEATURE_TENSOR = '472_quantized';
/** Output of the last inverted-residual block: N × 320 × 7 × 7, uint8. */
const SPATIAL_TENSOR = '624_quantized';
export const SPATIAL_SHAPE = [320, 7, 7] as const;
const FEATURE_DIM = 1280;
// The last convolution's output, dequantized (the graph computes it for a Shape op).
const MAP_TENSOR = '627';
const MAP_SIDE = 7;
const NUM_CLASSES = 1000;
// torchvision's ImageNet normalisation, which this model was trained with.
const MEAN = [0.485, 0.456, 0.406];
const STD = [0.229, 0.224, 0.225];

function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/**
 * One table per channel mapping a pixel byte straight to the model's quantized input, computed
 * in float32 exactly as normalise-then-QuantizeLinear would (so features are bit-identical).
 */
function quantizationTables(scale: number, zeroPoint: number): Uint8Array[] {
  const f = Math.fround;
  return [0, 1, 2].map((c) => {
    const table = new Uint8Array(256);
    for (let v = 0; v < 256; v++) {
      const x = f(f(f(v / 255) - f(MEAN[c]!)) / f(STD[c]!));
      table[v] = Math.max(0, Math.min(255, roundHalfEven(f(x / f(scale))) + zeroPoint));
    }
    return table;
  });
}

/** The features are uint8 with a zero point stored beside the layer that consumes them. */
function featureZeroPoint(model: OnnxModel, tensor = FEATURE_TENSOR): number {
  const consumer = firstConsumer(model, tensor);
  const zeroName = consumer?.inputs[2];
  if (!zeroName) throw new Error(`cannot find the quantization of ${tensor}`);
  return readScalar(model, zeroName);
}

/**
 * MobileNetV2 (ImageNet, int8): the 1280-d global-average-pooled features and the 1000 class
 * probabilities from one run, with the features exposed as an extra graph output at load time.
 */
export class MobileNetV2 implements ImageEncoder {
  static readonly spec = MOBILENET_V2_INT8;
  readonly id = MOBILENET_V2_INT8.id;
  readonly inputSize = SIZE;
  readonly featureDim = FEATURE_DIM;
  readonly numClasses = NUM_CLASSES;

  private constructor(
    private readonly session: ort.InferenceSession,
    private readonly inputName: string,
    private readonly tables: Uint8Array[],
    private readonly featureZero: number,
    readonly classes: readonly ImageNetClass[],
    /** Zero point of the spatial map when it is exposed ({@link MobileNetOptions.spatial}). */
    readonly spatialZeroPoint: number | null = null,
  ) {}

  static async load(opts: MobileNetOptions = {}): Promise<MobileNetV2> {
    const files = await resolveModel(MOBILENET_V2_INT8, opts);
    const model = decodeModel(fs.readFileSync(files['mobilenetv2-12-int8.onnx']!));
    exposeTensorAsOutput(model, FEATURE_TENSOR, ONNX_UINT8, ['N', FEATURE_DIM]);
    if (opts.spatial) exposeTensorAsOutput(model, SPATIAL_TENSOR, ONNX_UINT8, ['N', ...SPATIAL_SHAPE]);
    if (opts.activationMaps) exposeTensorAsOutput(model, MAP_TENSOR, ONNX_FLOAT, ['N', FEATURE_DIM, MAP_SIDE, MAP_SIDE]);
    const q = bypassInputQuantizer(model, ['N', 3, SIZE, SIZE]);
    const threads = opts.threads ?? os.availableParallelism();
    const session = await ort.InferenceSession.create(encodeModel(model), {
      intraOpNumThreads: threads,
      interOpNumThreads: 1,
      graphOptimizationLevel: 'all',
      extra: { session: { ...EXACT_INT8_SESSION, intra_op: { allow_spinning: opts.spinning === false ? '0' : '1' } } },
    });
    const classes = readClasses(files['imagenet_labels.json']!);
    const spatialZero = opts.spatial ? featureZeroPoint(model, SPATIAL_TENSOR) : null;
    return new MobileNetV2(session, q.input, quantizationTables(q.scale, q.zeroPoint), featureZeroPoint(model), classes, spatialZero);
  }

  /** A batch buffer for `n` images, to be filled with `pack`. */
  newBatch(n: number): Uint8Array {
    return new Uint8Array(n * 3 * PIXELS);
  }

  /** Writes one image (RGB, inputSize², row-major) into slot `slot` of a batch, in NCHW order. */
  pack(batch: Uint8Array, slot: number, rgb: Uint8Array): void {
    if (rgb.length !== PIXELS * 3) throw new Error(`expected ${PIXELS * 3} bytes of RGB, got ${rgb.length}`);
    const [t0, t1, t2] = this.tables as [Uint8Array, Uint8Array, Uint8Array];
    const base = slot * 3 * PIXELS;
    if (LITTLE_ENDIAN && (rgb.byteOffset & 3) === 0 && ((batch.byteOffset + base) & 3) === 0) {
      // Four pixels at a time: three 32-bit reads (r0 g0 b0 r1 | g1 b1 r2 g2 | b2 r3 g3 b3) and one
      // 32-bit write per channel plane; the same bytes as the loop below, in half the time.
      const src = new Uint32Array(rgb.buffer, rgb.byteOffset, (PIXELS * 3) >> 2);
      const r = new Uint32Array(batch.buffer, batch.byteOffset + base, PIXELS >> 2);
      const gr = new Uint32Array(batch.buffer, batch.byteOffset + base + PIXELS, PIXELS >> 2);
      const bl = new Uint32Array(batch.buffer, batch.byteOffset + base + 2 * PIXELS, PIXELS >> 2);
      for (let k = 0, q = 0; k < PIXELS >> 2; k++, q += 3) {
        const a = src[q]!;
        const b = src[q + 1]!;
        const c = src[q + 2]!;
        r[k] = t0[a & 255]! | (t0[a >>> 24]! << 8) | (t0[(b >>> 16) & 255]! << 16) | (t0[(c >>> 8) & 255]! << 24);
        gr[k] = t1[(a >>> 8) & 255]! | (t1[b & 255]! << 8) | (t1[b >>> 24]! << 16) | (t1[(c >>> 16) & 255]! << 24);
        bl[k] = t2[(a >>> 16) & 255]! | (t2[(b >>> 8) & 255]! << 8) | (t2[c & 255]! << 16) | (t2[c >>> 24]! << 24);
      }
      return;
    }
    const g = base + PIXELS;
    const b = base + 2 * PIXELS;
    for (let p = 0, q = 0; p < PIXELS; p++, q += 3) {
      batch[base + p] = t0[rgb[q]!]!;
      batch[g + p] = t1[rgb[q + 1]!]!;
      batch[b + p] = t2[rgb[q + 2]!]!;
    }
  }

  /** Runs the first `count` slots of a packed batch. */
  async run(batch: Uint8Array, count: number): Promise<ImageEmbeddings> {
    const input = new ort.Tensor('uint8', batch.subarray(0, count * 3 * PIXELS), [count, 3, SIZE, SIZE]);
    const out = await this.session.run({ [this.inputName]: input });
    const rawFeatures = out[FEATURE_TENSOR]!.data as Uint8Array;
    const logits = out.output!.data as Float32Array;
    const features = new Float32Array(count * FEATURE_DIM);
    const probs = new Float32Array(count * NUM_CLASSES);
    for (let i = 0; i < count; i++) {
      // The features' quantization scale is one constant, so L2-normalising makes it irrelevant.
      let norm = 0;
      for (let j = 0; j < FEATURE_DIM; j++) {
        const v = rawFeatures[i * FEATURE_DIM + j]! - this.featureZero;
        features[i * FEATURE_DIM + j] = v;
        norm += v * v;
      }
      const inv = norm > 0 ? 1 / Math.sqrt(norm) : 0;
      for (let j = 0; j < FEATURE_DIM; j++) features[i * FEATURE_DIM + j]! *= inv;
      softmaxInto(logits, probs, i * NUM_CLASSES, NUM_CLASSES);
    }
    const spatial = out[SPATIAL_TENSOR]?.data as Uint8Array | undefined;
    const map = out[MAP_TENSOR];
    const maps = map ? { data: map.data as Float32Array, channels: FEATURE_DIM, height: MAP_SIDE, width: MAP_SIDE } : undefined;
    return { count, features, probs, ...(spatial ? { spatial } : {}), ...(maps ? { maps } : {}) };
  }

  /** Convenience for a few images: pack and run. */
  async embed(images: Uint8Array[]): Promise<ImageEmbeddings> {
    const batch = this.newBatch(images.length);
    images.forEach((img, i) => this.pack(batch, i, img));
    return this.run(batch, images.length);
  }

  async close(): Promise<void> {
    await this.session.release();
  }
}

function softmaxInto(logits: Float32Array, out: Float32Array, offset: number, n: number): void {
  let max = -Infinity;
  for (let j = 0; j < n; j++) max = Math.max(max, logits[offset + j]!);
  let sum = 0;
  for (let j = 0; j < n; j++) {
    const e = Math.exp(logits[offset + j]! - max);
    out[offset + j] = e;
    sum += e;
  }
  for (let j = 0; j < n; j++) out[offset + j]! /= sum;
}

function readClasses(file: string): ImageNetClass[] {
  const labels = JSON.parse(fs.readFileSync(file, 'utf8')) as Array<[string, string]>;
  if (labels.length !== NUM_CLASSES) throw new Error(`imagenet_labels.json has ${labels.length} classes, expected ${NUM_CLASSES}`);
  return labels.map(([wnid, label], index) => ({ index, wnid, label: label.replace(/_/g, ' ') }));
}

/** The model's 1000 classes in output order, without loading the model (text queries need only these). */
export async function imagenetClasses(opts: ResolveOptions = {}): Promise<ImageNetClass[]> {
  const labelsOnly = { ...MOBILENET_V2_INT8, files: MOBILENET_V2_INT8.files.filter((f) => f.name === 'imagenet_labels.json') };
  return readClasses((await resolveModel(labelsOnly, opts))['imagenet_labels.json']!);
}
