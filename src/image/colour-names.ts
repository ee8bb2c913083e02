import { BASIC_COLOURS, type BasicColour, type ColourShare, type FactBox } from '../core/facts.js';

/**
 * Names colours with the eleven basic colour terms, the way people name them: a pixel goes
 * from sRGB to linear light to OKLab (Ottosson 2020, a perceptual space built on CIE XYZ
 * D65 like CIELAB), and its name follows from lightness L, chroma C and hue h.
 *
 * Why OKLab and not CIELAB: in CIELAB the hue angle of a saturated blue drifts towards purple
 * (sRGB blue #0000ff sits at h 306°, beside violet's 310°), the known blue non-linearity of
 * CIELAB (Hung & Berns 1995); OKLab was fitted to constant-hue data and keeps blue at 264°,
 * well apart from violet (~300°) and purple (~328°).
 *
 * The boundaries come from the ISCC–NBS colour categories (Kelly & Judd 1976, NBS Special
 * Publication 440), whose block centroids name the Munsell solid: each hue boundary sits
 * between the centroids of two neighbouring families (their vivid, strong, deep, moderate,
 * light and brilliant members), and the lightness and chroma boundaries between the centroids
 * of white, greys and black and of the "-ish grey" and chromatic blocks. Where English usage
 * differs from ISCC–NBS (sRGB red and orange are ISCC "reddish orange" and "orange yellow")
 * the boundary follows English, checked against the CSS named colours (test/colour-names.test.ts).
 * All figures below are OKLab L and C scaled ×100, h in degrees.
 */

/** Hue boundaries (OKLCh degrees), each between two ISCC–NBS families' centroid hues. */
export const HUE_BOUNDARIES = {
  /** Red 19° (vivid, strong red) | orange 57°: at ISCC "reddish orange" (37–39°), English red reaching sRGB red (29°). */
  redOrange: 40,
  /** Orange 57° | yellow 91°: between ISCC "orange yellow" (75°) and yellow, as English "orange" covers #ffa500 (71°). */
  orangeYellow: 83,
  /** Yellow 91° | green: between ISCC "greenish yellow" (106°) and "yellow green" (121°). */
  yellowGreen: 114,
  /** Green | blue: between ISCC "bluish green" (185–189°) and "greenish blue" (213–220°). */
  greenBlue: 203,
  /** Blue 245° | purple: between ISCC "purplish blue" (274–282°) and violet (290–302°), violet being named purple. */
  bluePurple: 288,
  /** Purple 320° | red and pink: between ISCC "reddish purple" (335–339°) and "purplish red/pink" (353–2°). */
  purpleRed: 346,
} as const;

/** Lightness and chroma boundaries. */
export const LIGHTNESS_CHROMA = {
  /**
   * Below this chroma a colour is achromatic: between the ISCC "-ish grey" blocks (greenish,
   * reddish grey C ≈ 2) and the "greyish" hued ones (greyish green, blue, pink C ≈ 2.5–4).
   */
  achromatic: 2.5,
  /** The same for yellowish hues (70–114°), whose "-ish grey/white" blocks reach C 3 (yellowish white, cream, is white), and for whites. */
  achromaticYellow: 3.5,
  /** Black | grey: midway between the ISCC black (L 24) and dark grey (L 46) centroids. */
  black: 35,
  /** Grey | white: midway between the ISCC light grey (L 78) and white (L 96) centroids. */
  white: 87,
  /** Any colour darker than this is black: the ISCC "blackish" blocks lie below it, navy (L 27) above. */
  blackAnyHue: 22,
  /** Orange and yellow hues darker than this are brown (ISCC browns L 36–62, deep orange 60, dark yellow 66). */
  brown: 58,
  /** Yellow hues darker than this are not yellow: brown (olive brown) or, past 98°, green (olive). */
  yellow: 62,
  /** Orange hues with less chroma than this are brown (ISCC light brown C 7, moderate orange C 11), unless very light. */
  orangeChroma: 9.5,
} as const;

/** sRGB transfer function undone: linear light of a channel value (0–255, fractions allowed). */
const lin = (c: number): number => {
  const x = c / 255;
  return x <= 0.04045 ? x / 12.92 : ((x + 0.055) / 1.055) ** 2.4;
};

/** OKLab of an sRGB colour (bytes), L and a, b scaled ×100. */
export function rgbToOklab(r: number, g: number, b: number): [L: number, a: number, b: number] {
  const R = lin(r);
  const G = lin(g);
  const B = lin(b);
  // Linear sRGB → LMS cone responses (Ottosson's matrices, XYZ D65 folded in), then cube roots.
  const l = Math.cbrt(0.4122214708 * R + 0.5363015813 * G + 0.0514459929 * B);
  const m = Math.cbrt(0.2119034982 * R + 0.6806995451 * G + 0.1073969926 * B);
  const s = Math.cbrt(0.0883024619 * R + 0.2817188376 * G + 0.6299787005 * B);
  return [
    100 * (0.2104542553 * l + 0.793617785 * m - 0.0040720468 * s),
    100 * (1.9779984951 * l - 2.428592205 * m + 0.4505937099 * s),
    100 * (0.0259040371 * l + 0.7827717662 * m - 0.808675766 * s),
  ];
}

/** OKLCh: lightness, chroma (×100) and hue angle in degrees [0, 360). */
export function rgbToOklch(r: number, g: number, b: number): [L: number, C: number, h: number] {
  const [L, a, bb] = rgbToOklab(r, g, b);
  const h = (Math.atan2(bb, a) * 180) / Math.PI;
  return [L, Math.hypot(a, bb), h < 0 ? h + 360 : h];
}

/** The basic colour name of an sRGB colour, computed exactly (naming regions goes through a lookup table). */
export function nameRgb(r: number, g: number, b: number): BasicColour {
  return nameLch(...rgbToOklch(r, g, b));
}

/** The basic colour name of an OKLCh colour (L, C ×100). */
export function nameLch(L: number, C: number, h: number): BasicColour {
  const H = HUE_BOUNDARIES;
  const T = LIGHTNESS_CHROMA;
  if (L < T.blackAnyHue) return 'black';
  if (C < ((h >= 70 && h < H.yellowGreen) || L > T.white ? T.achromaticYellow : T.achromatic)) return L < T.black ? 'black' : L > T.white ? 'white' : 'grey';
  if (h >= H.purpleRed || h < H.redOrange) {
    // Red hues split by lightness: ISCC pinks have L ≥ 68, reds L ≤ 55. Purplish reds turn pink
    // from L 60 (CSS deeppink, L 65, is pink); warm reds only when lighter than sRGB red (L 63,
    // C 26, the lightest saturated red) by more the more saturated they are (salmon is pink,
    // tomato red). Dull or dark orange-reds are brown (ISCC reddish browns: C 8–13, L 29–45).
    const purplish = h >= H.purpleRed || h < 10;
    if (purplish ? L >= 60 : L >= 64 + 0.6 * (C - 10)) return 'pink';
    if (!purplish && (C < 9 || (h >= 32 && L < 50))) return 'brown';
    return 'red';
  }
  if (h < H.orangeYellow) {
    if (L < T.brown) return 'brown';
    if (C < T.orangeChroma) return L > 82 ? 'orange' : 'brown'; // pale peach stays orange, tan is brown
    return 'orange';
  }
  if (h < H.yellowGreen) {
    if (L >= T.yellow) return 'yellow';
    return h < 98 ? 'brown' : 'green';
  }
  if (h < H.greenBlue) return 'green';
  if (h < H.bluePurple) return 'blue';
  return 'purple';
}

/** Quantisation of the lookup table: 5 bits per channel, 32³ cells of 8×8×8 RGB values. */
const BITS = 5;
const SHIFT = 8 - BITS;
let table: Uint8Array | null = null;

/** Index in BASIC_COLOURS of every quantised RGB cell, named at the cell's centre; built once (0.05–0.25 s). */
function lookupTable(): Uint8Array {
  if (table) return table;
  const n = 1 << BITS;
  const t = new Uint8Array(n * n * n);
  const centre = (i: number) => (i << SHIFT) + ((1 << SHIFT) - 1) / 2;
  for (let r = 0; r < n; r++)
    for (let g = 0; g < n; g++)
      for (let b = 0; b < n; b++) t[(r << (2 * BITS)) | (g << BITS) | b] = BASIC_COLOURS.indexOf(nameRgb(centre(r), centre(g), centre(b)));
  return (table = t);
}

/** The lookup-table cell of the pixel whose red byte is at `i`. */
function cell(data: Uint8Array, i: number): number {
  return ((data[i]! >> SHIFT) << (2 * BITS)) | ((data[i + 1]! >> SHIFT) << BITS) | (data[i + 2]! >> SHIFT);
}

/** The index in BASIC_COLOURS of an sRGB colour's name, through the lookup table. */
export function colourIndex(r: number, g: number, b: number): number {
  return lookupTable()[((r >> SHIFT) << (2 * BITS)) | ((g >> SHIFT) << BITS) | (b >> SHIFT)]!;
}

/** An RGB image, 3 bytes per pixel, rows top to bottom (the shape fact readers take). */
export interface RgbPixels {
  data: Uint8Array;
  width: number;
  height: number;
}

export interface MainColoursOptions {
  /** Shares below this are dropped (default 0.1). */
  minShare?: number;
  /** At most this many colours (default 4). */
  max?: number;
  /**
   * Weight of the region's centre over its edges, 0 (every pixel alike) to 1 (edges count for
   * nothing): a box around an object holds background at its edges. Default 0 for the whole
   * image, 1 for a box (the weight falls to nothing at its edges).
   */
  centre?: number;
  /** Pixels sampled at most (default 4096): larger regions are read on a regular grid. */
  samples?: number;
  /** Colours (by name) left out of the shares, e.g. a plain backdrop found by {@link backdropColour}. */
  exclude?: readonly BasicColour[];
}

/**
 * Weighted counts of each basic colour in a region (BASIC_COLOURS order), read on a grid of
 * at most `samples` pixels. The weight falls from 1 at the region's centre to 1 − centre at its
 * edges (a tent in each direction), so an object's box counts the object more than its corners.
 */
export function colourHistogram(image: RgbPixels, box?: FactBox, opts: Pick<MainColoursOptions, 'centre' | 'samples'> = {}): Float64Array {
  const hist = new Float64Array(BASIC_COLOURS.length);
  const { data, width, height } = image;
  const x1 = Math.max(0, Math.floor(box ? box[0] : 0));
  const y1 = Math.max(0, Math.floor(box ? box[1] : 0));
  const x2 = Math.min(width, Math.ceil(box ? box[2] : width));
  const y2 = Math.min(height, Math.ceil(box ? box[3] : height));
  const w = x2 - x1;
  const h = y2 - y1;
  if (w <= 0 || h <= 0) return hist;
  const lut = lookupTable();
  const step = Math.max(1, Math.sqrt((w * h) / (opts.samples ?? 4096)));
  const centre = Math.min(1, Math.max(0, opts.centre ?? (box ? 1 : 0)));
  const cx = x1 + w / 2;
  const cy = y1 + h / 2;
  // Grid points at the centres of step×step cells, so the samples are symmetric about the centre.
  for (let fy = y1 + step / 2 - 0.5; fy < y2; fy += step) {
    const y = Math.min(y2 - 1, Math.max(y1, Math.round(fy)));
    const wy = 1 - centre * Math.min(1, Math.abs(y + 0.5 - cy) / (h / 2));
    for (let fx = x1 + step / 2 - 0.5; fx < x2; fx += step) {
      const x = Math.min(x2 - 1, Math.max(x1, Math.round(fx)));
      const wx = 1 - centre * Math.min(1, Math.abs(x + 0.5 - cx) / (w / 2));
      const i = (y * width + x) * 3;
      const k = lut[cell(data, i)]!;
      hist[k] = hist[k]! + wx * wy;
    }
  }
  return hist;
}

/** The shares of a histogram, largest first, after leaving out `exclude`, dropping small ones and keeping `max`. */
export function sharesOf(hist: ArrayLike<number>, opts: Pick<MainColoursOptions, 'minShare' | 'max' | 'exclude'> = {}): ColourShare[] {
  const excluded = new Set(opts.exclude ?? []);
  let total = 0;
  for (let i = 0; i < BASIC_COLOURS.length; i++) if (!excluded.has(BASIC_COLOURS[i]!)) total += hist[i]!;
  if (!(total > 0)) return [];
  const minShare = opts.minShare ?? 0.1;
  const out: ColourShare[] = [];
  for (let i = 0; i < BASIC_COLOURS.length; i++) {
    const name = BASIC_COLOURS[i]!;
    const share = hist[i]! / total;
    if (!excluded.has(name) && share >= minShare && share > 0) out.push({ name, share: Math.round(share * 1000) / 1000 });
  }
  return out.sort((a, b) => b.share - a.share || BASIC_COLOURS.indexOf(a.name) - BASIC_COLOURS.indexOf(b.name)).slice(0, opts.max ?? 4);
}

/** The main colours of an image or of a box in it, largest share first (shares of the region's weighted pixels). */
export function mainColours(image: RgbPixels, box?: FactBox, opts: MainColoursOptions = {}): ColourShare[] {
  return sharesOf(colourHistogram(image, box, opts), opts);
}

/**
 * The colour of a plain backdrop: the name held by at least `minShare` (default 0.9) of the
 * pixels along the image's border, one pixel wide; null when the border is mixed (most
 * photographs). Studio shots, drawings and diagrams have one; leaving it out of the image's
 * colours lets the colours of what stands on it count.
 */
export function backdropColour(image: RgbPixels, minShare = 0.9): BasicColour | null {
  const { data, width, height } = image;
  if (width < 3 || height < 3) return null;
  const counts = new Uint32Array(BASIC_COLOURS.length);
  const lut = lookupTable();
  let n = 0;
  const add = (x: number, y: number) => {
    const i = (y * width + x) * 3;
    const k = lut[cell(data, i)]!;
    counts[k] = counts[k]! + 1;
    n++;
  };
  const sx = Math.max(1, Math.floor(width / 256));
  const sy = Math.max(1, Math.floor(height / 256));
  for (let x = 0; x < width; x += sx) {
    add(x, 0);
    add(x, height - 1);
  }
  for (let y = 1; y < height - 1; y += sy) {
    add(0, y);
    add(width - 1, y);
  }
  let best = 0;
  for (let i = 1; i < counts.length; i++) if (counts[i]! > counts[best]!) best = i;
  return counts[best]! >= minShare * n ? BASIC_COLOURS[best]! : null;
}
