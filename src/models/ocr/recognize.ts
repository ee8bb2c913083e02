/**
 * PaddleOCR's text recogniser (PP-OCRv4 rec, SVTR with a CTC head): each detected box is cut
 * out upright at 48 pixels high, boxes of similar width are batched, and the per-column
 * character probabilities are decoded greedily (best class per column, repeats merged,
 * blanks dropped). Confidence is the mean of the kept columns' best probabilities.
 */
import type * as ort from 'onnxruntime-node';
import { sampleRect, type RotatedRect } from './geometry.js';

export const REC_HEIGHT = 48;
/** Widest crop fed to the recogniser (a line 33 times as long as high); longer lines are squeezed. */
const MAX_WIDTH = 1600;
const BATCH = 6;
const BGR = [2, 1, 0] as const;

export interface Recognised {
  text: string;
  score: number;
}

/** The crop of a box as the recogniser sees it: upright, reading left to right (tall boxes are read turned a quarter). */
export function uprightRect(r: RotatedRect): RotatedRect {
  if (r.height >= 1.5 * r.width) {
    // Turned a quarter anticlockwise, as PaddleOCR does: vertical lines of text usually read bottom to top.
    return { ...r, ux: r.uy, uy: -r.ux, width: r.height, height: r.width };
  }
  return r;
}

/** Columns the recogniser reads for a box (its upright crop's width at 48 px high): its cost grows with this. */
export function cropWidth(r: RotatedRect): number {
  return Math.max(8, Math.min(MAX_WIDTH, Math.ceil((REC_HEIGHT * r.width) / Math.max(1, r.height))));
}

export async function recognise(
  session: ort.InferenceSession,
  Tensor: typeof ort.Tensor,
  dictionary: readonly string[],
  rgb: Uint8Array,
  width: number,
  height: number,
  rects: readonly RotatedRect[],
  margin = 0,
): Promise<Recognised[]> {
  const crops = rects.map((r) => {
    // A margin at both ends of the line: the detector's box can stop short of a faint first or last letter.
    const up0 = uprightRect(r);
    const up = { ...up0, width: up0.width + 2 * margin * up0.height };
    return { rect: up, w: cropWidth(up) };
  });
  const order = crops.map((_, i) => i).sort((a, b) => crops[a]!.w - crops[b]!.w);
  const out: Recognised[] = new Array<Recognised>(rects.length);
  for (let s = 0; s < order.length; s += BATCH) {
    const idx = order.slice(s, s + BATCH);
    // Pad to the widest crop in the batch (multiple of 8: the network's column stride).
    const batchW = Math.ceil(Math.max(...idx.map((i) => crops[i]!.w)) / 8) * 8;
    const plane = REC_HEIGHT * batchW;
    const input = new Float32Array(idx.length * 3 * plane); // zeros: mid grey after normalisation, as PaddleOCR pads
    idx.forEach((i, b) => {
      const c = crops[i]!;
      sampleRect(rgb, width, height, c.rect, c.w, REC_HEIGHT, input, b * 3 * plane, batchW, plane, BGR, (v) => v / 127.5 - 1);
    });
    const result = await session.run({ [session.inputNames[0]!]: new Tensor('float32', input, [idx.length, 3, REC_HEIGHT, batchW]) });
    const probs = result[session.outputNames[0]!]!;
    const [, steps, classes] = probs.dims as [number, number, number];
    const data = probs.data as Float32Array;
    idx.forEach((i, b) => {
      out[i] = ctcDecode(data, b * steps * classes, steps, classes, dictionary);
    });
  }
  return out;
}

/** Greedy CTC decoding of one sequence: class 0 is the blank, class k the dictionary's (k−1)th entry. */
export function ctcDecode(data: Float32Array, offset: number, steps: number, classes: number, dictionary: readonly string[]): Recognised {
  let text = '';
  let sum = 0;
  let n = 0;
  let prev = -1;
  for (let t = 0; t < steps; t++) {
    const base = offset + t * classes;
    let best = 0;
    let bestP = data[base]!;
    for (let k = 1; k < classes; k++) {
      const p = data[base + k]!;
      if (p > bestP) {
        bestP = p;
        best = k;
      }
    }
    if (best !== 0 && best !== prev) {
      text += dictionary[best - 1] ?? '';
      sum += bestP;
      n++;
    }
    prev = best;
  }
  return { text, score: n ? sum / n : 0 };
}
