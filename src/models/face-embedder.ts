import * as ort from 'onnxruntime-node';
import { normalise } from '../core/vector.js';
import { MOBILEFACENET } from './registry.js';
import { resolveModel, type ResolveOptions } from './resolve.js';
import type { RgbPixels } from './yolox.js';
import type { FiveLandmarks } from './yunet.js';

export const FACE_SIZE = 112;
export const FACE_DIM = 128;

/** The standard ArcFace 112×112 five-point template: right eye, left eye, nose, right and left mouth corner. */
export const ARCFACE_TEMPLATE: FiveLandmarks = [38.2946, 51.6963, 73.5318, 51.5014, 56.0252, 71.7366, 41.5493, 92.3655, 70.7299, 92.2041];

/** A similarity transform x' = a·x − b·y + tx, y' = b·x + a·y + ty. */
export interface Similarity {
  a: number;
  b: number;
  tx: number;
  ty: number;
}

/**
 * The least-squares similarity (rotation, uniform scale, shift; no reflection) taking the
 * `from` points onto the `to` points: Umeyama's solution, which in 2-D has this closed form.
 */
export function fitSimilarity(from: readonly number[], to: readonly number[]): Similarity {
  const n = from.length / 2;
  let fx = 0;
  let fy = 0;
  let tx = 0;
  let ty = 0;
  for (let i = 0; i < n; i++) {
    fx += from[2 * i]!;
    fy += from[2 * i + 1]!;
    tx += to[2 * i]!;
    ty += to[2 * i + 1]!;
  }
  fx /= n;
  fy /= n;
  tx /= n;
  ty /= n;
  let dot = 0;
  let cross = 0;
  let norm = 0;
  for (let i = 0; i < n; i++) {
    const sx = from[2 * i]! - fx;
    const sy = from[2 * i + 1]! - fy;
    const dx = to[2 * i]! - tx;
    const dy = to[2 * i + 1]! - ty;
    dot += sx * dx + sy * dy;
    cross += sx * dy - sy * dx;
    norm += sx * sx + sy * sy;
  }
  const a = norm > 0 ? dot / norm : 1;
  const b = norm > 0 ? cross / norm : 0;
  return { a, b, tx: tx - (a * fx - b * fy), ty: ty - (b * fx + a * fy) };
}

/**
 * The aligned face: each pixel of the 112×112 crop is read from the image through the inverse
 * transform, bilinearly, black outside the image (as OpenCV's warpAffine). RGB, 3 bytes a pixel.
 */
export function alignFace(image: RgbPixels, landmarks: FiveLandmarks): Uint8Array {
  const t = fitSimilarity(landmarks, ARCFACE_TEMPLATE);
  const det = t.a * t.a + t.b * t.b || 1;
  // Inverse: x = (a·(u − tx) + b·(v − ty)) / det, y = (−b·(u − tx) + a·(v − ty)) / det.
  const out = new Uint8Array(FACE_SIZE * FACE_SIZE * 3);
  const { data, width, height } = image;
  for (let v = 0; v < FACE_SIZE; v++) {
    for (let u = 0; u < FACE_SIZE; u++) {
      const du = u - t.tx;
      const dv = v - t.ty;
      const x = (t.a * du + t.b * dv) / det;
      const y = (-t.b * du + t.a * dv) / det;
      const x0 = Math.floor(x);
      const y0 = Math.floor(y);
      const wx = x - x0;
      const wy = y - y0;
      const o = (v * FACE_SIZE + u) * 3;
      for (let c = 0; c < 3; c++) {
        let acc = 0;
        for (let j = 0; j < 2; j++) {
          const yy = y0 + j;
          if (yy < 0 || yy >= height) continue;
          const wyj = j === 0 ? 1 - wy : wy;
          for (let i = 0; i < 2; i++) {
            const xx = x0 + i;
            if (xx < 0 || xx >= width) continue;
            acc += data[(yy * width + xx) * 3 + c]! * wyj * (i === 0 ? 1 - wx : wx);
          }
        }
        out[o + c] = Math.round(acc);
      }
    }
  }
  return out;
}

/**
 * How sharp an aligned face is: the variance of the Laplacian of its grey levels (the
 * usual focus measure). Blurred or tiny, upscaled faces score low.
 */
export function sharpness(face: Uint8Array, size = FACE_SIZE): number {
  const grey = new Float32Array(size * size);
  for (let i = 0; i < size * size; i++) grey[i] = 0.299 * face[i * 3]! + 0.587 * face[i * 3 + 1]! + 0.114 * face[i * 3 + 2]!;
  let sum = 0;
  let sq = 0;
  let n = 0;
  // The inner part only: the crop's corners may be black padding, whose edge is not the face's.
  for (let y = 8; y < size - 8; y++) {
    for (let x = 8; x < size - 8; x++) {
      const i = y * size + x;
      const l = grey[i - 1]! + grey[i + 1]! + grey[i - size]! + grey[i + size]! - 4 * grey[i]!;
      sum += l;
      sq += l * l;
      n++;
    }
  }
  const mean = sum / n;
  return sq / n - mean * mean;
}

export interface FaceEmbedderOptions extends ResolveOptions {
  threads?: number;
  /** Adds the embedding of the mirrored face before normalising (default true): steadier, twice the work. */
  flip?: boolean;
}

/** MobileFaceNet: a 128-d, L2-normalised embedding of an aligned face; the same person's faces have a high cosine. */
export class FaceEmbedder {
  static readonly spec = MOBILEFACENET;
  readonly id = MOBILEFACENET.id;

  private constructor(
    private readonly session: ort.InferenceSession,
    private readonly flip: boolean,
  ) {}

  static async load(opts: FaceEmbedderOptions = {}): Promise<FaceEmbedder> {
    const files = await resolveModel(MOBILEFACENET, opts);
    const session = await ort.InferenceSession.create(files['MobileFaceNet.onnx']!, {
      intraOpNumThreads: opts.threads ?? 1,
      interOpNumThreads: 1,
      graphOptimizationLevel: 'all',
    });
    return new FaceEmbedder(session, opts.flip ?? true);
  }

  /** Embeddings of aligned 112×112 RGB faces, one per face, L2-normalised. */
  async embed(faces: readonly Uint8Array[]): Promise<Float32Array[]> {
    if (faces.length === 0) return [];
    const per = this.flip ? 2 : 1;
    const plane = FACE_SIZE * FACE_SIZE;
    const n = faces.length * per;
    const tensor = new Float32Array(n * 3 * plane);
    faces.forEach((face, f) => {
      for (let k = 0; k < per; k++) {
        const base = (f * per + k) * 3 * plane;
        for (let y = 0; y < FACE_SIZE; y++) {
          for (let x = 0; x < FACE_SIZE; x++) {
            const sx = k === 1 ? FACE_SIZE - 1 - x : x;
            const p = (y * FACE_SIZE + sx) * 3;
            const o = y * FACE_SIZE + x;
            // RGB, (p − 127.5) / 127.5.
            tensor[base + o] = (face[p]! - 127.5) / 127.5;
            tensor[base + plane + o] = (face[p + 1]! - 127.5) / 127.5;
            tensor[base + 2 * plane + o] = (face[p + 2]! - 127.5) / 127.5;
          }
        }
      }
    });
    const out = await this.session.run({ x: new ort.Tensor('float32', tensor, [n, 3, FACE_SIZE, FACE_SIZE]) });
    const data = Object.values(out)[0]!.data as Float32Array;
    return faces.map((_, f) => {
      const v = new Float32Array(FACE_DIM);
      for (let k = 0; k < per; k++) for (let d = 0; d < FACE_DIM; d++) v[d] = v[d]! + data[(f * per + k) * FACE_DIM + d]!;
      return normalise(v);
    });
  }

  async close(): Promise<void> {
    await this.session.release();
  }
}
