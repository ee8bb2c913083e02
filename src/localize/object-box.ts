import type { Detection } from '../core/facts.js';
import type { Localization } from './localizer.js';
import { alignedMask, bitmapArea, fillHoles, keepLargestComponents, type Bitmap, type Box } from './mask.js';
import { colourRefine, type Rgb } from './saliency.js';

/**
 * Localisation by the object detector (the `objects` method): the object is the detection's
 * box, and its silhouette the pixels inside the box whose colours belong to it rather than to
 * the rest of the image — the box as the prior of the same colour model the saliency methods
 * refine with. Pure functions; the detections come from the stored facts or the detector.
 */

/** Detections scoring less do not localise: the saliency mask is a better guess than a doubtful box. */
export const MIN_OBJECT_SCORE = 0.3;

/** A silhouette covering less of its box than this is a failed refinement: the box itself stands for it. */
const MIN_BOX_FILL = 0.3;

/** Prior inside the box: most of it is the object, not all (corners are background). */
const BOX_PRIOR = 0.8;

const words = (s: string) =>
  s
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter(Boolean);

/** A word and the singulars it may be the plural of: glasses → glass, horses → horse, berries → berry. */
function forms(w: string): string[] {
  const out = [w];
  if (w.endsWith('s')) out.push(w.slice(0, -1));
  if (w.endsWith('es')) out.push(w.slice(0, -2));
  if (w.endsWith('ies')) out.push(`${w.slice(0, -3)}y`);
  return out;
}

const sameWord = (a: string, b: string) => forms(a).some((x) => forms(b).includes(x));

/** Whether a detector label names a category: "dog" for "Dogs", "wine glass" for "wine glasses", "car" for "sports car". */
export function labelMatches(label: string, category: string): boolean {
  const l = words(label);
  const c = words(category);
  if (l.length === 0 || c.length < l.length) return false;
  // The category ends with the label: its head noun ("sports car" is a car), plural or not.
  return l.every((w, i) => sameWord(w, c[c.length - l.length + i]!));
}

/**
 * The detection to localise: the best-scoring one matching the item's category when it has one
 * and a detection matches it, else the best-scoring one; none when nothing scores enough.
 */
export function chooseDetection(objects: readonly Detection[], category?: string | null): Detection | undefined {
  const sure = objects.filter((o) => o.score >= MIN_OBJECT_SCORE);
  const matching = category ? sure.filter((o) => labelMatches(o.label, category)) : [];
  const pool = matching.length ? matching : sure;
  return pool.reduce<Detection | undefined>((best, o) => (!best || o.score > best.score ? o : best), undefined);
}

/** A detection's box as fractions of the image it was found in. */
export function boxFraction(d: Detection, width: number, height: number): Box {
  const clamp = (v: number) => Math.min(1, Math.max(0, v));
  const [x1, y1, x2, y2] = d.box;
  return { x0: clamp(x1 / width), y0: clamp(y1 / height), x1: clamp(x2 / width), y1: clamp(y2 / height) };
}

/**
 * Finds the object inside a box. `img` is the working copy (the model input squashed to a
 * square, so fractions map straight onto it); `aspect` the source's width / height.
 */
export function localizeInBox(box: Box, img: Rgb, aspect: number): Localization {
  const { width: w, height: h } = img;
  const gx0 = Math.floor(box.x0 * w);
  const gy0 = Math.floor(box.y0 * h);
  const gx1 = Math.max(gx0 + 1, Math.ceil(box.x1 * w));
  const gy1 = Math.max(gy0 + 1, Math.ceil(box.y1 * h));
  const inside = (x: number, y: number) => x >= gx0 && x < gx1 && y >= gy0 && y < gy1;
  const prior = new Float32Array(w * h);
  for (let y = gy0; y < gy1; y++) prior.fill(BOX_PRIOR, y * w + gx0, y * w + gx1);
  // One round: later rounds would feed the posterior outside the box back in as foreground.
  const posterior = colourRefine(img, prior, 1);
  const cut: Bitmap = { width: w, height: h, data: new Uint8Array(w * h) };
  for (let y = gy0; y < gy1; y++) for (let x = gx0; x < gx1; x++) cut.data[y * w + x] = posterior[y * w + x]! >= 0.5 ? 1 : 0;
  let bitmap = fillHoles(keepLargestComponents(cut));
  const boxArea = (gx1 - gx0) * (gy1 - gy0);
  if (bitmapArea(bitmap) < MIN_BOX_FILL * boxArea) {
    bitmap = { width: w, height: h, data: new Uint8Array(w * h) };
    for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) if (inside(x, y)) bitmap.data[y * w + x] = 1;
  }
  return { found: true, bitmap, mask: alignedMask(bitmap, aspect)! };
}
