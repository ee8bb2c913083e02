import * as ort from 'onnxruntime-node';
import type { FactBox } from '../core/facts.js';
import { YUNET_FACE } from './registry.js';
import { resolveModel, type ResolveOptions } from './resolve.js';
import type { RgbPixels } from './yolox.js';

/** Five landmarks as x, y pairs: right eye, left eye, nose tip, right and left mouth corner (the person's right = image left). */
export type FiveLandmarks = [number, number, number, number, number, number, number, number, number, number];

/** One face found by the detector, in the pixels of the image it was given. */
export interface FaceDetection {
  box: FactBox;
  score: number;
  landmarks: FiveLandmarks;
}

export interface YunetOptions extends ResolveOptions {
  threads?: number;
}

export interface FaceDetectOptions {
  /**
   * Lowest score kept. OpenCV's default is 0.9, but on small (224-px) photos true faces score
   * 0.81–0.90, so 0.6 (no false faces were seen there at 0.6).
   */
  minScore?: number;
  /** A face overlapping a better one by more than this IoU is dropped (OpenCV's default 0.3). */
  nmsIoU?: number;
  /** Longest side the image is shrunk to before detection (default 640): faces are found at the image's own scale. */
  maxSide?: number;
  /** Most faces returned, best first (default 50). */
  maxFaces?: number;
}

export const FACE_MIN_SCORE = 0.6;
const STRIDES = [8, 16, 32] as const;

/**
 * The model's input: the image as planar BGR floats 0–255 (no mean or scaling), padded with
 * zeros at the right and bottom to multiples of 32, as OpenCV's FaceDetectorYN does.
 */
export function yunetInput(image: RgbPixels): { tensor: Float32Array; width: number; height: number } {
  const width = Math.ceil(image.width / 32) * 32;
  const height = Math.ceil(image.height / 32) * 32;
  const plane = width * height;
  const tensor = new Float32Array(3 * plane);
  const d = image.data;
  for (let y = 0; y < image.height; y++) {
    for (let x = 0; x < image.width; x++) {
      const p = (y * image.width + x) * 3;
      const o = y * width + x;
      tensor[o] = d[p + 2]!;
      tensor[plane + o] = d[p + 1]!;
      tensor[2 * plane + o] = d[p]!;
    }
  }
  return { tensor, width, height };
}

function iou(a: FactBox, b: FactBox): number {
  const w = Math.min(a[2], b[2]) - Math.max(a[0], b[0]);
  const h = Math.min(a[3], b[3]) - Math.max(a[1], b[1]);
  if (w <= 0 || h <= 0) return 0;
  const inter = w * h;
  return inter / ((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter);
}

/** The twelve outputs by name: cls_8 … kps_32. */
export type YunetOutputs = Record<string, Float32Array>;

/**
 * Decodes the outputs as OpenCV's face_detect.cpp: score = √(cls·obj), box centre and size
 * from the anchor's grid cell and stride, landmarks as offsets from the cell; then NMS. `scale`
 * maps the detector's pixels back to the caller's; boxes are clipped to `bounds`.
 */
export function decodeYunet(
  out: YunetOutputs,
  input: { width: number; height: number },
  bounds: { width: number; height: number; scale: number },
  opts: FaceDetectOptions = {},
): FaceDetection[] {
  const minScore = opts.minScore ?? FACE_MIN_SCORE;
  const found: FaceDetection[] = [];
  const s1 = 1 / bounds.scale;
  for (const s of STRIDES) {
    const cls = out[`cls_${s}`]!;
    const obj = out[`obj_${s}`]!;
    const bbox = out[`bbox_${s}`]!;
    const kps = out[`kps_${s}`]!;
    const cols = input.width / s;
    const n = cls.length;
    for (let i = 0; i < n; i++) {
      const score = Math.sqrt(Math.min(Math.max(cls[i]!, 0), 1) * Math.min(Math.max(obj[i]!, 0), 1));
      if (score < minScore) continue;
      const r = Math.floor(i / cols);
      const c = i - r * cols;
      const cx = (c + bbox[i * 4]!) * s;
      const cy = (r + bbox[i * 4 + 1]!) * s;
      const w = Math.exp(bbox[i * 4 + 2]!) * s;
      const h = Math.exp(bbox[i * 4 + 3]!) * s;
      const box: FactBox = [
        Math.min(Math.max((cx - w / 2) * s1, 0), bounds.width),
        Math.min(Math.max((cy - h / 2) * s1, 0), bounds.height),
        Math.min(Math.max((cx + w / 2) * s1, 0), bounds.width),
        Math.min(Math.max((cy + h / 2) * s1, 0), bounds.height),
      ];
      if (box[2] <= box[0] || box[3] <= box[1]) continue;
      const landmarks = new Array<number>(10) as FiveLandmarks;
      for (let k = 0; k < 5; k++) {
        landmarks[2 * k] = (kps[i * 10 + 2 * k]! + c) * s * s1;
        landmarks[2 * k + 1] = (kps[i * 10 + 2 * k + 1]! + r) * s * s1;
      }
      found.push({ box, score, landmarks });
    }
  }
  found.sort((a, b) => b.score - a.score);
  const nmsIoU = opts.nmsIoU ?? 0.3;
  const kept: FaceDetection[] = [];
  for (const f of found) {
    if (kept.every((k) => iou(k.box, f.box) <= nmsIoU)) kept.push(f);
    if (kept.length >= (opts.maxFaces ?? 50)) break;
  }
  return kept;
}

/** Shrinks an image (bilinear, box-averaged when by more than 2×) so its longest side is at most `maxSide`. */
export function shrinkToFit(image: RgbPixels, maxSide: number): { image: RgbPixels; scale: number } {
  const scale = Math.min(1, maxSide / Math.max(image.width, image.height));
  if (scale >= 1) return { image, scale: 1 };
  const width = Math.max(1, Math.round(image.width * scale));
  const height = Math.max(1, Math.round(image.height * scale));
  const data = new Uint8Array(width * height * 3);
  const k = 1 / scale;
  // Each output pixel averages the source pixels it covers (area resampling).
  for (let y = 0; y < height; y++) {
    const y0 = Math.floor(y * k);
    const y1 = Math.max(y0 + 1, Math.min(image.height, Math.floor((y + 1) * k)));
    for (let x = 0; x < width; x++) {
      const x0 = Math.floor(x * k);
      const x1 = Math.max(x0 + 1, Math.min(image.width, Math.floor((x + 1) * k)));
      let r = 0;
      let g = 0;
      let b = 0;
      for (let yy = y0; yy < y1; yy++) {
        for (let xx = x0; xx < x1; xx++) {
          const p = (yy * image.width + xx) * 3;
          r += image.data[p]!;
          g += image.data[p + 1]!;
          b += image.data[p + 2]!;
        }
      }
      const n = (y1 - y0) * (x1 - x0);
      const o = (y * width + x) * 3;
      data[o] = Math.round(r / n);
      data[o + 1] = Math.round(g / n);
      data[o + 2] = Math.round(b / n);
    }
  }
  return { image: { data, width, height }, scale: width / image.width };
}

/** YuNet: faces with five landmarks, at any image size. */
export class Yunet {
  static readonly spec = YUNET_FACE;
  readonly id = YUNET_FACE.id;

  private constructor(private readonly session: ort.InferenceSession) {}

  static async load(opts: YunetOptions = {}): Promise<Yunet> {
    const files = await resolveModel(YUNET_FACE, opts);
    const session = await ort.InferenceSession.create(files['face_detection_yunet_2026may.onnx']!, {
      intraOpNumThreads: opts.threads ?? 1,
      interOpNumThreads: 1,
      graphOptimizationLevel: 'all',
    });
    return new Yunet(session);
  }

  /** Faces in an image, best first, boxes and landmarks in its pixels. */
  async detect(image: RgbPixels, opts: FaceDetectOptions = {}): Promise<FaceDetection[]> {
    const { image: small, scale } = shrinkToFit(image, opts.maxSide ?? 640);
    const input = yunetInput(small);
    const out = await this.session.run({ input: new ort.Tensor('float32', input.tensor, [1, 3, input.height, input.width]) });
    const named: YunetOutputs = {};
    for (const [k, v] of Object.entries(out)) named[k] = v.data as Float32Array;
    return decodeYunet(named, input, { width: image.width, height: image.height, scale }, opts);
  }

  async close(): Promise<void> {
    await this.session.release();
  }
}
