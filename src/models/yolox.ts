import fs from 'node:fs';
import * as ort from 'onnxruntime-node';
import sharp from 'sharp';
import { MAX_OBJECTS, type Detection, type FactBox } from '../core/facts.js';
import { YOLOX_NANO_COCO } from './registry.js';
import { resolveModel, type ResolveOptions } from './resolve.js';

/** RGB pixels, 3 bytes per pixel, rows top to bottom (the facts' RgbImage has this shape). */
export interface RgbPixels {
  data: Uint8Array;
  width: number;
  height: number;
}

export interface YoloxOptions extends ResolveOptions {
  /** Inference threads (default 1: parallelism comes from several workers, each with a detector). */
  threads?: number;
}

export interface DetectOptions {
  /** Lowest score kept, for classes not in `classMinScores` (default 0.3, YOLOX's ONNX demo). */
  minScore?: number;
  /** Lowest score kept per class label, overriding `minScore` for those classes. */
  classMinScores?: Readonly<Record<string, number>>;
  /** Boxes of one class overlapping a higher-scored one by more than this IoU are dropped (default 0.45). */
  nmsIoU?: number;
  /** Most detections returned, highest scores first (default MAX_OBJECTS). */
  maxObjects?: number;
}

/** The model's input: a 416×416 BGR canvas and the scale from image pixels to it. */
export interface YoloxInput {
  tensor: Float32Array;
  /** Canvas pixels per image pixel. */
  scale: number;
  width: number;
  height: number;
}

export const YOLOX_SIZE = 416;
const PLANE = YOLOX_SIZE * YOLOX_SIZE;
const FILL = 114;
const STRIDES = [8, 16, 32] as const;
const NUM_CLASSES = 80;
const ROW = 5 + NUM_CLASSES;
const DEFAULT_MIN_SCORE = 0.3;
const DEFAULT_NMS_IOU = 0.45;

/** Grid cell (x, y) and stride of each output row: stride 8 first, then 16, 32; row-major within. */
const GRID = (() => {
  const cells: number[] = [];
  for (const s of STRIDES) {
    const g = YOLOX_SIZE / s;
    for (let y = 0; y < g; y++) for (let x = 0; x < g; x++) cells.push(x, y, s);
  }
  return Int32Array.from(cells);
})();
const ROWS = GRID.length / 3; // 3549

/**
 * Averages k×k blocks: shrinking by more than 2× with bilinear sampling alone reads 4 source
 * pixels per output pixel and aliases fine texture (a phone photo to 416 px is 10×).
 */
function boxShrink(img: RgbPixels, k: number): RgbPixels {
  const width = Math.max(1, Math.floor(img.width / k));
  const height = Math.max(1, Math.floor(img.height / k));
  const kx = Math.min(k, img.width);
  const ky = Math.min(k, img.height);
  const data = new Uint8Array(width * height * 3);
  const sums = new Uint32Array(width * 3);
  const n = kx * ky;
  for (let y = 0; y < height; y++) {
    sums.fill(0);
    for (let dy = 0; dy < ky; dy++) {
      const row = (y * ky + dy) * img.width * 3;
      for (let x = 0; x < width; x++) {
        let p = row + x * kx * 3;
        let r = 0;
        let g = 0;
        let b = 0;
        for (let dx = 0; dx < kx; dx++, p += 3) {
          r += img.data[p]!;
          g += img.data[p + 1]!;
          b += img.data[p + 2]!;
        }
        sums[x * 3] = sums[x * 3]! + r;
        sums[x * 3 + 1] = sums[x * 3 + 1]! + g;
        sums[x * 3 + 2] = sums[x * 3 + 2]! + b;
      }
    }
    const out = y * width * 3;
    for (let i = 0; i < width * 3; i++) data[out + i] = Math.round(sums[i]! / n);
  }
  return { data, width, height };
}

/** Source index pairs and weights of a bilinear resize along one axis (pixel centres aligned, as OpenCV). */
function axisTaps(src: number, dst: number): { i0: Int32Array; i1: Int32Array; w: Float32Array } {
  const i0 = new Int32Array(dst);
  const i1 = new Int32Array(dst);
  const w = new Float32Array(dst);
  const ratio = src / dst;
  for (let d = 0; d < dst; d++) {
    const s = Math.min(Math.max((d + 0.5) * ratio - 0.5, 0), src - 1);
    const f = Math.floor(s);
    i0[d] = f;
    i1[d] = Math.min(f + 1, src - 1);
    w[d] = s - f;
  }
  return { i0, i1, w };
}

/**
 * YOLOX's preprocessing: the image scaled to fit 416×416 (aspect kept), placed at the top-left
 * of a canvas filled with 114, as planar BGR floats 0–255. Bilinear (as YOLOX trained with
 * OpenCV's), with a box filter first when shrinking more than 2×. Written by hand: enlarging a
 * 224-px image costs 3.9 core-ms against 6.6 through libvips, and on the Flickr8k dev split
 * libvips' bicubic/Lanczos enlargement found fewer dogs (recall at precision 0.9: 0.38 vs 0.45).
 */
export function letterbox(image: RgbPixels, tensor: Float32Array = new Float32Array(3 * PLANE)): YoloxInput {
  const { width, height } = image;
  if (width < 1 || height < 1 || image.data.length < width * height * 3) throw new Error(`bad image: ${width}×${height}, ${image.data.length} bytes`);
  const scale = Math.min(YOLOX_SIZE / width, YOLOX_SIZE / height);
  const nw = Math.min(YOLOX_SIZE, Math.max(1, Math.round(width * scale)));
  const nh = Math.min(YOLOX_SIZE, Math.max(1, Math.round(height * scale)));
  const k = Math.floor(1 / scale);
  const src = k >= 2 ? boxShrink(image, k) : image;
  tensor.fill(FILL);
  const xs = axisTaps(src.width, nw);
  const ys = axisTaps(src.height, nh);
  const d = src.data;
  const sw3 = src.width * 3;
  for (let y = 0; y < nh; y++) {
    const r0 = ys.i0[y]! * sw3;
    const r1 = ys.i1[y]! * sw3;
    const wy = ys.w[y]!;
    const out = y * YOLOX_SIZE;
    for (let x = 0; x < nw; x++) {
      const a = xs.i0[x]! * 3;
      const b = xs.i1[x]! * 3;
      const wx = xs.w[x]!;
      for (let c = 0; c < 3; c++) {
        const top = d[r0 + a + c]! + (d[r0 + b + c]! - d[r0 + a + c]!) * wx;
        const bottom = d[r1 + a + c]! + (d[r1 + b + c]! - d[r1 + a + c]!) * wx;
        // Channel c (R, G, B) goes to plane 2 − c: the model reads BGR.
        tensor[(2 - c) * PLANE + out + x] = top + (bottom - top) * wy;
      }
    }
  }
  return { tensor, scale, width, height };
}

/** Shrinking by more than this goes through libvips, which is several times cheaper there. */
const LIBVIPS_BELOW_SCALE = 0.5;

/**
 * `letterbox`, with images shrunk more than 2× resized by libvips first: a 12-megapixel photo
 * costs 20 core-ms there against 54 by hand (1024×768: 3.0 against 9.7).
 */
export async function prepareInput(image: RgbPixels, tensor?: Float32Array): Promise<YoloxInput> {
  const scale = Math.min(YOLOX_SIZE / image.width, YOLOX_SIZE / image.height);
  if (!(scale < LIBVIPS_BELOW_SCALE)) return letterbox(image, tensor);
  const width = Math.min(YOLOX_SIZE, Math.max(1, Math.round(image.width * scale)));
  const height = Math.min(YOLOX_SIZE, Math.max(1, Math.round(image.height * scale)));
  const data = await sharp(image.data, { raw: { width: image.width, height: image.height, channels: 3 } })
    .resize(width, height, { fit: 'fill', kernel: 'linear' })
    .raw()
    .toBuffer();
  // Already at its size in the canvas: letterbox only places it (bilinear at scale 1 copies).
  const placed = letterbox({ data, width, height }, tensor);
  return { tensor: placed.tensor, scale, width: image.width, height: image.height };
}

function iou(a: FactBox, b: FactBox): number {
  const w = Math.min(a[2], b[2]) - Math.max(a[0], b[0]);
  const h = Math.min(a[3], b[3]) - Math.max(a[1], b[1]);
  if (w <= 0 || h <= 0) return 0;
  const inter = w * h;
  return inter / ((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter);
}

interface Candidate {
  cls: number;
  score: number;
  box: FactBox;
}

/**
 * Turns the raw output rows into detections: grid decode, score = objectness × best class,
 * the per-class thresholds, per-class NMS, boxes back in image pixels and clipped to the image.
 * Exported for tests and the evaluation; `detect` is the usual entry.
 */
export function decodeYolox(output: Float32Array, input: Omit<YoloxInput, 'tensor'>, labels: readonly string[], opts: DetectOptions = {}): Detection[] {
  const minScore = opts.minScore ?? DEFAULT_MIN_SCORE;
  const perClass = new Float32Array(NUM_CLASSES).fill(minScore);
  for (const [label, t] of Object.entries(opts.classMinScores ?? {})) {
    const i = labels.indexOf(label);
    if (i >= 0) perClass[i] = t;
  }
  const floor = Math.min(...perClass);
  const { scale, width, height } = input;
  const byClass = new Map<number, Candidate[]>();
  for (let r = 0; r < ROWS; r++) {
    const o = r * ROW;
    const obj = output[o + 4]!;
    if (obj < floor) continue; // score ≤ objectness
    let cls = 0;
    let best = output[o + 5]!;
    for (let c = 1; c < NUM_CLASSES; c++) {
      const v = output[o + 5 + c]!;
      if (v > best) {
        best = v;
        cls = c;
      }
    }
    const score = obj * best;
    if (score < perClass[cls]!) continue;
    const s = GRID[r * 3 + 2]!;
    const cx = (output[o]! + GRID[r * 3]!) * s;
    const cy = (output[o + 1]! + GRID[r * 3 + 1]!) * s;
    const hw = (Math.exp(output[o + 2]!) * s) / 2;
    const hh = (Math.exp(output[o + 3]!) * s) / 2;
    const box: FactBox = [
      Math.min(Math.max((cx - hw) / scale, 0), width),
      Math.min(Math.max((cy - hh) / scale, 0), height),
      Math.min(Math.max((cx + hw) / scale, 0), width),
      Math.min(Math.max((cy + hh) / scale, 0), height),
    ];
    if (box[2] <= box[0] || box[3] <= box[1]) continue; // wholly in the padding
    const list = byClass.get(cls) ?? [];
    list.push({ cls, score, box });
    byClass.set(cls, list);
  }
  const kept: Candidate[] = [];
  const nmsIoU = opts.nmsIoU ?? DEFAULT_NMS_IOU;
  for (const list of byClass.values()) {
    list.sort((a, b) => b.score - a.score);
    const mine: Candidate[] = [];
    for (const c of list) if (mine.every((k) => iou(k.box, c.box) <= nmsIoU)) mine.push(c);
    kept.push(...mine);
  }
  kept.sort((a, b) => b.score - a.score);
  return kept.slice(0, opts.maxObjects ?? MAX_OBJECTS).map((c) => ({
    label: labels[c.cls]!,
    score: Math.round(c.score * 1e4) / 1e4,
    box: c.box.map((v) => Math.round(v * 10) / 10) as FactBox,
  }));
}

/**
 * YOLOX-Nano, the 80 COCO classes: people, animals, vehicles, furniture and household things,
 * with boxes. One image per run (the export's batch is fixed at 1).
 */
export class YoloxNano {
  static readonly spec = YOLOX_NANO_COCO;
  readonly id = YOLOX_NANO_COCO.id;
  private readonly canvas = new Float32Array(3 * PLANE);
  private canvasBusy = false;

  private constructor(
    private readonly session: ort.InferenceSession,
    /** Class names in output order ("person", "bicycle", … "toothbrush"). */
    readonly labels: readonly string[],
  ) {}

  static async load(opts: YoloxOptions = {}): Promise<YoloxNano> {
    const files = await resolveModel(YOLOX_NANO_COCO, opts);
    const labels = JSON.parse(fs.readFileSync(files['coco_labels.json']!, 'utf8')) as string[];
    if (labels.length !== NUM_CLASSES) throw new Error(`coco_labels.json has ${labels.length} classes, expected ${NUM_CLASSES}`);
    const session = await ort.InferenceSession.create(files['yolox_nano.onnx']!, {
      intraOpNumThreads: opts.threads ?? 1,
      interOpNumThreads: 1,
      graphOptimizationLevel: 'all',
    });
    return new YoloxNano(session, labels);
  }

  /** The raw output rows for a letterboxed input ([3549 × 85]: box, objectness, 80 class scores). */
  async infer(input: YoloxInput): Promise<Float32Array> {
    const out = await this.session.run({ images: new ort.Tensor('float32', input.tensor, [1, 3, YOLOX_SIZE, YOLOX_SIZE]) });
    return out.output!.data as Float32Array;
  }

  /** Objects and people in an image, highest score first, boxes in its pixels. */
  async detect(image: RgbPixels, opts: DetectOptions = {}): Promise<Detection[]> {
    // The detector's own canvas is reused (1.4 MB); a call made while another runs gets a new one.
    const own = !this.canvasBusy;
    this.canvasBusy = true;
    try {
      const input = await prepareInput(image, own ? this.canvas : undefined);
      return decodeYolox(await this.infer(input), input, this.labels, opts);
    } finally {
      if (own) this.canvasBusy = false;
    }
  }

  async close(): Promise<void> {
    await this.session.release();
  }
}
