import type { GreyImage } from './local-features.js';

/** How much of two aligned images' common area shows the same picture. */
export interface Agreement {
  /** Cells of the first image that the second covers, textured in both (see AgreementOptions). */
  cells: number;
  /** Of those, the cells whose pixels correlate with the second image's at the same place. */
  agreeing: number;
  /** agreeing / cells (1 when no cell can be compared). */
  share: number;
}

export interface AgreementOptions {
  /** Cell side, in pixels of the first image (default 16, at the features' 320 px). */
  cell?: number;
  /** Radius of the box blur (two passes) applied to both images before comparing (default 2). */
  blur?: number;
  /** Correlation a cell needs to agree (default 0.5). */
  minCorrelation?: number;
  /** Contrast (standard deviation, grey levels) each image needs in a cell for it to count (default 8). */
  minContrast?: number;
  /** A cell counts only when neither image has more than this times the other's contrast there (default 3). */
  maxContrastRatio?: number;
}

// Chosen on copies of the Flickr8k dev photos and the train+dev photos' second shots of one
// scene (docs/duplicates.md): 16 px cells over two passes of a radius-2 blur tolerate the few
// pixels a homography is off by; flat cells (sky, walls) agree with anything, and a cell where
// one image has far more contrast than the other mostly holds something drawn over one of them
// (a caption, a logo): neither says whether the picture is the same.
const DEFAULTS = { cell: 16, blur: 2, minCorrelation: 0.5, minContrast: 8, maxContrastRatio: 3 };

/** Box blur of radius r, twice: takes off JPEG blocks, resampling noise and fine texture before comparing. */
function smooth(img: GreyImage, r: number): Float32Array {
  const { width: w, height: h } = img;
  let src = Float32Array.from(img.data);
  for (let pass = 0; pass < 2; pass++) {
    const tmp = new Float32Array(w * h);
    for (let y = 0; y < h; y++)
      for (let x = 0; x < w; x++) {
        const o = y * w;
        let t = 0;
        for (let d = -r; d <= r; d++) t += src[o + Math.min(w - 1, Math.max(0, x + d))]!;
        tmp[o + x] = t / (2 * r + 1);
      }
    const out = new Float32Array(w * h);
    for (let y = 0; y < h; y++)
      for (let x = 0; x < w; x++) {
        let t = 0;
        for (let d = -r; d <= r; d++) t += tmp[Math.min(h - 1, Math.max(0, y + d)) * w + x]!;
        out[y * w + x] = t / (2 * r + 1);
      }
    src = out;
  }
  return src;
}

/** Bilinear sample of v (w × h) at (x, y), which must lie inside. */
function sample(v: Float32Array, w: number, x: number, y: number): number {
  const x0 = Math.floor(x);
  const y0 = Math.floor(y);
  const fx = x - x0;
  const fy = y - y0;
  const o = y0 * w + x0;
  return (v[o]! * (1 - fx) + v[o + 1]! * fx) * (1 - fy) + (v[o + w]! * (1 - fx) + v[o + w + 1]! * fx) * fy;
}

/** One compared cell: the correlation of the two images there, and each one's contrast (standard deviation, grey levels). */
export interface CellComparison {
  correlation: number;
  contrastA: number;
  contrastB: number;
}

/**
 * a's grid of cells, each compared with the same place in b once aligned by the homography `h`
 * (taking a's pixels to b's), by normalised correlation: brightness, contrast and colour edits
 * do not count. Only cells wholly inside b (the overlap) are compared.
 */
export function compareCells(a: GreyImage, b: GreyImage, h: readonly number[], opts: Pick<AgreementOptions, 'cell' | 'blur'> = {}): CellComparison[] {
  const cell = opts.cell ?? DEFAULTS.cell;
  const blur = opts.blur ?? DEFAULTS.blur;
  const va = smooth(a, blur);
  const vb = smooth(b, blur);
  const STEP = 2;
  const perCell = Math.ceil(cell / STEP) ** 2;
  const out: CellComparison[] = [];
  for (let cy = 0; cy + cell <= a.height; cy += cell)
    for (let cx = 0; cx + cell <= a.width; cx += cell) {
      let n = 0;
      let sa = 0, sb = 0, saa = 0, sbb = 0, sab = 0; // prettier-ignore
      for (let y = cy; y < cy + cell; y += STEP)
        for (let x = cx; x < cx + cell; x += STEP) {
          const d = h[6]! * x + h[7]! * y + h[8]!;
          const bx = (h[0]! * x + h[1]! * y + h[2]!) / d;
          const by = (h[3]! * x + h[4]! * y + h[5]!) / d;
          if (!(bx >= 0 && by >= 0 && bx < b.width - 1 && by < b.height - 1)) continue;
          const p = va[y * a.width + x]!;
          const q = sample(vb, b.width, bx, by);
          n++;
          sa += p;
          sb += q;
          saa += p * p;
          sbb += q * q;
          sab += p * q;
        }
      if (n < 0.9 * perCell) continue;
      const varA = Math.max(0, saa / n - (sa / n) ** 2);
      const varB = Math.max(0, sbb / n - (sb / n) ** 2);
      const correlation = (sab / n - (sa / n) * (sb / n)) / Math.sqrt(Math.max(varA, 1e-6) * Math.max(varB, 1e-6));
      out.push({ correlation, contrastA: Math.sqrt(varA), contrastB: Math.sqrt(varB) });
    }
  return out;
}

/**
 * Photometric agreement of two images once aligned: the share of the overlap's textured cells
 * that correlate. An edited copy agrees nearly everywhere the two overlap (but under an overlaid
 * caption or logo); a second shot of one scene, whose background one homography also aligns,
 * disagrees where people or things moved.
 */
export function alignedAgreement(a: GreyImage, b: GreyImage, h: readonly number[], opts: AgreementOptions = {}): Agreement {
  const { minCorrelation, minContrast, maxContrastRatio } = { ...DEFAULTS, ...opts };
  let cells = 0;
  let agreeing = 0;
  for (const c of compareCells(a, b, h, opts)) {
    const [lo, hi] = c.contrastA < c.contrastB ? [c.contrastA, c.contrastB] : [c.contrastB, c.contrastA];
    if (lo < minContrast || hi > maxContrastRatio * lo) continue;
    cells++;
    if (c.correlation >= minCorrelation) agreeing++;
  }
  return { cells, agreeing, share: cells ? agreeing / cells : 1 };
}
