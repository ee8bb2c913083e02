/**
 * The plane geometry text detection needs: connected regions of a binary map, their
 * minimum-area rotated rectangles, and sampling a rotated rectangle out of an image.
 * Plain loops over typed arrays, so the OCR runs without OpenCV.
 */

export interface Point {
  x: number;
  y: number;
}

/** A rotated rectangle: centre, unit axis `u` along its width (the reading direction), size. */
export interface RotatedRect {
  cx: number;
  cy: number;
  /** Unit vector along the width; the height runs along (−uy, ux), pointing down for text that reads left to right. */
  ux: number;
  uy: number;
  width: number;
  height: number;
}

/**
 * 8-connected regions of `mask` (non-zero pixels), each as its outline points: the first and
 * last pixel of every row it covers. Their convex hull is the region's, at a fraction of the points.
 */
export function regionOutlines(mask: Uint8Array, width: number, height: number, maxRegions: number): Point[][] {
  const label = new Int32Array(width * height);
  const regions: Point[][] = [];
  const stack: number[] = [];
  for (let start = 0; start < mask.length; start++) {
    if (!mask[start] || label[start]) continue;
    if (regions.length >= maxRegions) break;
    const id = regions.length + 1;
    // Per row of this region: leftmost and rightmost x.
    const rowMin = new Map<number, number>();
    const rowMax = new Map<number, number>();
    label[start] = id;
    stack.push(start);
    while (stack.length) {
      const p = stack.pop()!;
      const y = (p / width) | 0;
      const x = p - y * width;
      if (x < (rowMin.get(y) ?? Infinity)) rowMin.set(y, x);
      if (x > (rowMax.get(y) ?? -1)) rowMax.set(y, x);
      for (let dy = -1; dy <= 1; dy++) {
        const ny = y + dy;
        if (ny < 0 || ny >= height) continue;
        for (let dx = -1; dx <= 1; dx++) {
          const nx = x + dx;
          if (nx < 0 || nx >= width) continue;
          const q = ny * width + nx;
          if (mask[q] && !label[q]) {
            label[q] = id;
            stack.push(q);
          }
        }
      }
    }
    const pts: Point[] = [];
    for (const [y, x0] of rowMin) {
      pts.push({ x: x0, y });
      const x1 = rowMax.get(y)!;
      if (x1 !== x0) pts.push({ x: x1, y });
    }
    regions.push(pts);
  }
  return regions;
}

/** Convex hull (Andrew's monotone chain), counter-clockwise in image coordinates' sense of the maths. */
export function convexHull(points: readonly Point[]): Point[] {
  const pts = [...points].sort((a, b) => a.x - b.x || a.y - b.y);
  if (pts.length <= 2) return pts;
  const cross = (o: Point, a: Point, b: Point) => (a.x - o.x) * (b.y - o.y) - (a.y - o.y) * (b.x - o.x);
  const lower: Point[] = [];
  for (const p of pts) {
    while (lower.length >= 2 && cross(lower[lower.length - 2]!, lower[lower.length - 1]!, p) <= 0) lower.pop();
    lower.push(p);
  }
  const upper: Point[] = [];
  for (let i = pts.length - 1; i >= 0; i--) {
    const p = pts[i]!;
    while (upper.length >= 2 && cross(upper[upper.length - 2]!, upper[upper.length - 1]!, p) <= 0) upper.pop();
    upper.push(p);
  }
  return lower.slice(0, -1).concat(upper.slice(0, -1));
}

/**
 * The minimum-area rectangle around the points (one side lies on a hull edge: try each).
 * Its width axis is the one nearer horizontal, so a slanted line of text keeps reading left to right.
 */
export function minAreaRect(points: readonly Point[]): RotatedRect {
  const hull = convexHull(points);
  if (hull.length === 0) return { cx: 0, cy: 0, ux: 1, uy: 0, width: 0, height: 0 };
  let best: RotatedRect | null = null;
  let bestArea = Infinity;
  const edges = hull.length < 2 ? [{ x: 1, y: 0 }] : hull.map((p, i) => ({ x: hull[(i + 1) % hull.length]!.x - p.x, y: hull[(i + 1) % hull.length]!.y - p.y }));
  for (const e of edges) {
    const len = Math.hypot(e.x, e.y);
    if (len === 0) continue;
    const ux = e.x / len;
    const uy = e.y / len;
    let minU = Infinity;
    let maxU = -Infinity;
    let minV = Infinity;
    let maxV = -Infinity;
    for (const p of hull) {
      const a = p.x * ux + p.y * uy;
      const b = -p.x * uy + p.y * ux;
      if (a < minU) minU = a;
      if (a > maxU) maxU = a;
      if (b < minV) minV = b;
      if (b > maxV) maxV = b;
    }
    const area = (maxU - minU) * (maxV - minV);
    if (area < bestArea) {
      bestArea = area;
      const cu = (minU + maxU) / 2;
      const cv = (minV + maxV) / 2;
      best = { cx: cu * ux - cv * uy, cy: cu * uy + cv * ux, ux, uy, width: maxU - minU, height: maxV - minV };
    }
  }
  return orientRect(best ?? { cx: hull[0]!.x, cy: hull[0]!.y, ux: 1, uy: 0, width: 0, height: 0 });
}

/** The same rectangle with its width axis within 45° of left-to-right. */
export function orientRect(r: RotatedRect): RotatedRect {
  let { ux, uy, width, height } = r;
  // Swap axes when the width axis is nearer vertical.
  if (Math.abs(uy) > Math.abs(ux)) {
    [ux, uy] = [uy, -ux];
    [width, height] = [height, width];
  }
  if (ux < 0) {
    ux = -ux;
    uy = -uy;
  }
  return { ...r, ux, uy, width, height };
}

/** The four corners: top-left, top-right, bottom-right, bottom-left (for text that reads left to right). */
export function rectCorners(r: RotatedRect): [Point, Point, Point, Point] {
  const vx = -r.uy;
  const vy = r.ux;
  const hw = r.width / 2;
  const hh = r.height / 2;
  const at = (a: number, b: number): Point => ({ x: r.cx + a * r.ux + b * vx, y: r.cy + a * r.uy + b * vy });
  return [at(-hw, -hh), at(hw, -hh), at(hw, hh), at(-hw, hh)];
}

/**
 * Mean of `map` over the pixels inside the rectangle: how sure the detector is of the
 * whole box, not just of its brightest pixels.
 */
export function meanInRect(map: Float32Array, width: number, height: number, r: RotatedRect): number {
  const corners = rectCorners(r);
  const x0 = Math.max(0, Math.floor(Math.min(...corners.map((p) => p.x))));
  const x1 = Math.min(width - 1, Math.ceil(Math.max(...corners.map((p) => p.x))));
  const y0 = Math.max(0, Math.floor(Math.min(...corners.map((p) => p.y))));
  const y1 = Math.min(height - 1, Math.ceil(Math.max(...corners.map((p) => p.y))));
  const hw = r.width / 2 + 0.5;
  const hh = r.height / 2 + 0.5;
  let sum = 0;
  let n = 0;
  for (let y = y0; y <= y1; y++) {
    for (let x = x0; x <= x1; x++) {
      const dx = x - r.cx;
      const dy = y - r.cy;
      if (Math.abs(dx * r.ux + dy * r.uy) <= hw && Math.abs(-dx * r.uy + dy * r.ux) <= hh) {
        sum += map[y * width + x]!;
        n++;
      }
    }
  }
  return n ? sum / n : 0;
}

/**
 * Samples the rectangle out of an RGB image into an `outW` × `outH` grid, bilinear, averaging
 * several taps per output pixel when shrinking (a large heading cut down to the recogniser's
 * 48 pixels would otherwise alias). Writes channel planes in `order` (indices into R, G, B),
 * each value mapped by `norm`, into `out` at `offset` with row stride `stride`.
 */
export function sampleRect(
  rgb: Uint8Array,
  width: number,
  height: number,
  r: RotatedRect,
  outW: number,
  outH: number,
  out: Float32Array,
  offset: number,
  stride: number,
  planeSize: number,
  order: readonly [number, number, number],
  norm: (v: number, c: number) => number,
): void {
  const sx = r.width / outW;
  const sy = r.height / outH;
  const taps = Math.max(1, Math.min(4, Math.ceil(Math.max(sx, sy))));
  const vx = -r.uy;
  const vy = r.ux;
  const acc = [0, 0, 0];
  for (let i = 0; i < outH; i++) {
    for (let j = 0; j < outW; j++) {
      acc[0] = acc[1] = acc[2] = 0;
      for (let ti = 0; ti < taps; ti++) {
        const b = (i + (ti + 0.5) / taps) * sy - r.height / 2;
        for (let tj = 0; tj < taps; tj++) {
          const a = (j + (tj + 0.5) / taps) * sx - r.width / 2;
          // Pixel centres sit at integer coordinates.
          const x = Math.min(width - 1, Math.max(0, r.cx + a * r.ux + b * vx - 0.5));
          const y = Math.min(height - 1, Math.max(0, r.cy + a * r.uy + b * vy - 0.5));
          const x0 = Math.floor(x);
          const y0 = Math.floor(y);
          const x1 = Math.min(width - 1, x0 + 1);
          const y1 = Math.min(height - 1, y0 + 1);
          const fx = x - x0;
          const fy = y - y0;
          const p00 = (y0 * width + x0) * 3;
          const p01 = (y0 * width + x1) * 3;
          const p10 = (y1 * width + x0) * 3;
          const p11 = (y1 * width + x1) * 3;
          for (let c = 0; c < 3; c++) {
            acc[c]! += (rgb[p00 + c]! * (1 - fx) + rgb[p01 + c]! * fx) * (1 - fy) + (rgb[p10 + c]! * (1 - fx) + rgb[p11 + c]! * fx) * fy;
          }
        }
      }
      const n = taps * taps;
      for (let k = 0; k < 3; k++) {
        const c = order[k]!;
        out[offset + k * planeSize + i * stride + j] = norm(acc[c]! / n, k);
      }
    }
  }
}
