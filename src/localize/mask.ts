/**
 * Object masks: binary images of where the object is, kept small enough to store one per
 * item and compare thousands per query.
 *
 * A stored mask is *box-aligned*: the mask is cropped to the object's bounding box, scaled
 * uniformly so the box's longer side spans the grid, and centred. Two masks then compare by
 * shape alone (position and size in the frame do not matter), while the aspect ratio still
 * does: a tall bottle and a squat jar overlap poorly.
 */

/** A box in fractions of the image's width and height, [x0, x1) × [y0, y1). */
export interface Box {
  x0: number;
  y0: number;
  x1: number;
  y1: number;
}

/** A box-aligned silhouette: grid × grid bits, row-major, packed 8 to a byte (MSB first). */
export interface ObjectMask {
  grid: number;
  bits: Uint8Array;
  /** The object's bounding box in the source image. */
  box: Box;
  /** Fraction of the source image covered by the object. */
  area: number;
}

/** Grid side of stored masks: 32 × 32 bits = 128 bytes per item. */
export const MASK_GRID = 32;

/** A binary image at some working resolution: 1 = object. */
export interface Bitmap {
  width: number;
  height: number;
  data: Uint8Array;
}

/**
 * Otsu's threshold: the value that best separates the values into two classes (maximum
 * between-class variance), over a 256-bin histogram of [min, max].
 */
export function otsuThreshold(values: ArrayLike<number>): number {
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  if (!(hi > lo)) return hi;
  const bins = 256;
  const hist = new Float64Array(bins);
  const scale = (bins - 1) / (hi - lo);
  for (let i = 0; i < values.length; i++) hist[Math.round((values[i]! - lo) * scale)]!++;
  const total = values.length;
  let sumAll = 0;
  for (let b = 0; b < bins; b++) sumAll += b * hist[b]!;
  let wB = 0;
  let sumB = 0;
  let best = -1;
  let bestBin = 0;
  for (let b = 0; b < bins; b++) {
    wB += hist[b]!;
    if (wB === 0) continue;
    const wF = total - wB;
    if (wF === 0) break;
    sumB += b * hist[b]!;
    const mB = sumB / wB;
    const mF = (sumAll - sumB) / wF;
    const between = wB * wF * (mB - mF) * (mB - mF);
    if (between > best) {
      best = between;
      bestBin = b;
    }
  }
  // Values above the bin's upper edge are foreground.
  return lo + (bestBin + 0.5) / scale;
}

/** Pixels at or above `threshold`. */
export function threshold(map: Float32Array, width: number, height: number, t: number): Bitmap {
  const data = new Uint8Array(width * height);
  for (let i = 0; i < data.length; i++) data[i] = map[i]! >= t ? 1 : 0;
  return { width, height, data };
}

/**
 * Connected components (4-neighbourhood); keeps those holding at least `minShare` of the
 * largest one's pixels. Saliency leaves specks in clutter; the object is the big blob.
 */
export function keepLargestComponents(m: Bitmap, minShare = 0.25): Bitmap {
  const { width: w, height: h, data } = m;
  const label = new Int32Array(w * h);
  const sizes: number[] = [0];
  const stack: number[] = [];
  for (let i = 0; i < data.length; i++) {
    if (!data[i] || label[i]) continue;
    const id = sizes.length;
    let size = 0;
    label[i] = id;
    stack.push(i);
    while (stack.length > 0) {
      const p = stack.pop()!;
      size++;
      const x = p % w;
      const y = (p - x) / w;
      const visit = (q: number) => {
        if (data[q] && !label[q]) {
          label[q] = id;
          stack.push(q);
        }
      };
      if (x > 0) visit(p - 1);
      if (x < w - 1) visit(p + 1);
      if (y > 0) visit(p - w);
      if (y < h - 1) visit(p + w);
    }
    sizes.push(size);
  }
  const largest = Math.max(0, ...sizes);
  const out = new Uint8Array(w * h);
  for (let i = 0; i < out.length; i++) if (label[i] && sizes[label[i]!]! >= minShare * largest) out[i] = 1;
  return { width: w, height: h, data: out };
}

/** Fills holes: background pixels not connected to the border become object (a label, a cap). */
export function fillHoles(m: Bitmap): Bitmap {
  const { width: w, height: h, data } = m;
  const outside = new Uint8Array(w * h);
  const stack: number[] = [];
  const seed = (p: number) => {
    if (!data[p] && !outside[p]) {
      outside[p] = 1;
      stack.push(p);
    }
  };
  for (let x = 0; x < w; x++) {
    seed(x);
    seed((h - 1) * w + x);
  }
  for (let y = 0; y < h; y++) {
    seed(y * w);
    seed(y * w + w - 1);
  }
  while (stack.length > 0) {
    const p = stack.pop()!;
    const x = p % w;
    const y = (p - x) / w;
    if (x > 0) seed(p - 1);
    if (x < w - 1) seed(p + 1);
    if (y > 0) seed(p - w);
    if (y < h - 1) seed(p + w);
  }
  const out = new Uint8Array(w * h);
  for (let i = 0; i < out.length; i++) out[i] = outside[i] ? 0 : 1;
  return { width: w, height: h, data: out };
}

export function bitmapArea(m: Bitmap): number {
  let n = 0;
  for (let i = 0; i < m.data.length; i++) n += m.data[i]!;
  return n;
}

/** Tight bounding box of the set pixels, in fractions of the bitmap; null when empty. */
export function boundingBox(m: Bitmap): Box | null {
  const { width: w, height: h, data } = m;
  let x0 = w;
  let y0 = h;
  let x1 = -1;
  let y1 = -1;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      if (!data[y * w + x]) continue;
      if (x < x0) x0 = x;
      if (x > x1) x1 = x;
      if (y < y0) y0 = y;
      if (y > y1) y1 = y;
    }
  }
  if (x1 < 0) return null;
  return { x0: x0 / w, y0: y0 / h, x1: (x1 + 1) / w, y1: (y1 + 1) / h };
}

/** IoU of two bitmaps of the same size (full-frame masks; used to score localisation). */
export function bitmapIoU(a: Bitmap, b: Bitmap): number {
  if (a.width !== b.width || a.height !== b.height) throw new Error('bitmaps differ in size');
  let inter = 0;
  let union = 0;
  for (let i = 0; i < a.data.length; i++) {
    inter += a.data[i]! & b.data[i]!;
    union += a.data[i]! | b.data[i]!;
  }
  return union === 0 ? 0 : inter / union;
}

/**
 * The box-aligned silhouette of a bitmap (see the module comment), sampled at pixel centres.
 * `sourceAspect` is the source image's width / height: the bitmap may be a squashed square
 * working copy, and shapes must be compared in true proportions.
 */
export function alignedMask(m: Bitmap, sourceAspect = m.width / m.height, grid = MASK_GRID): ObjectMask | null {
  const box = boundingBox(m);
  if (!box) return null;
  const area = bitmapArea(m) / (m.width * m.height);
  // Box size in common units (source pixels up to a constant factor).
  const bw = (box.x1 - box.x0) * sourceAspect;
  const bh = box.y1 - box.y0;
  const side = Math.max(bw, bh);
  const bits = new Uint8Array((grid * grid) / 8);
  for (let gy = 0; gy < grid; gy++) {
    // Grid cell centre → box-relative position, with the shorter side centred.
    const v = ((gy + 0.5) / grid) * side - (side - bh) / 2;
    if (v < 0 || v >= bh) continue;
    const sy = Math.min(m.height - 1, Math.floor((box.y0 + v) * m.height));
    for (let gx = 0; gx < grid; gx++) {
      const u = ((gx + 0.5) / grid) * side - (side - bw) / 2;
      if (u < 0 || u >= bw) continue;
      const sx = Math.min(m.width - 1, Math.floor((box.x0 + u / sourceAspect) * m.width));
      if (m.data[sy * m.width + sx]) {
        const i = gy * grid + gx;
        bits[i >> 3]! |= 0x80 >> (i & 7);
      }
    }
  }
  return { grid, bits, box, area };
}

const POPCOUNT = Uint8Array.from({ length: 256 }, (_, i) => {
  let n = 0;
  for (let v = i; v; v >>= 1) n += v & 1;
  return n;
});

/** IoU of two box-aligned silhouettes (same grid): shape similarity in [0, 1]. */
export function maskIoU(a: Uint8Array, b: Uint8Array): number {
  if (a.length !== b.length) throw new Error(`masks differ in size (${a.length} and ${b.length} bytes)`);
  let inter = 0;
  let union = 0;
  for (let i = 0; i < a.length; i++) {
    inter += POPCOUNT[a[i]! & b[i]!]!;
    union += POPCOUNT[a[i]! | b[i]!]!;
  }
  return union === 0 ? 0 : inter / union;
}

/** Whether bit (x, y) of a packed grid is set. */
export function maskBit(bits: Uint8Array, grid: number, x: number, y: number): boolean {
  const i = y * grid + x;
  return (bits[i >> 3]! & (0x80 >> (i & 7))) !== 0;
}
