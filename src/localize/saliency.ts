/**
 * Saliency maps: where in an image the object probably is. Pure functions over typed arrays.
 *
 * Two cues, measured on the generated benchmark (`visor-lab eval objects`, see
 * docs/domain.md) and combined:
 * - activation maps of the image model (the last 7 × 7 × 1280 convolution of MobileNetV2,
 *   already computed for the features): coarse (one cell is 32 pixels) but they find the
 *   object in clutter;
 * - a colour model: foreground and background colour histograms, seeded by the coarse map
 *   and refined, which puts the boundary on the object's edge at pixel level.
 */

/** Bilinear resize of a single-channel map (align-corners off, like image resamplers). */
export function resizeBilinear(src: Float32Array, sw: number, sh: number, dw: number, dh: number): Float32Array {
  const out = new Float32Array(dw * dh);
  for (let y = 0; y < dh; y++) {
    const fy = Math.min(sh - 1, Math.max(0, ((y + 0.5) * sh) / dh - 0.5));
    const y0 = Math.floor(fy);
    const y1 = Math.min(sh - 1, y0 + 1);
    const wy = fy - y0;
    for (let x = 0; x < dw; x++) {
      const fx = Math.min(sw - 1, Math.max(0, ((x + 0.5) * sw) / dw - 0.5));
      const x0 = Math.floor(fx);
      const x1 = Math.min(sw - 1, x0 + 1);
      const wx = fx - x0;
      const top = src[y0 * sw + x0]! * (1 - wx) + src[y0 * sw + x1]! * wx;
      const bottom = src[y1 * sw + x0]! * (1 - wx) + src[y1 * sw + x1]! * wx;
      out[y * dw + x] = top * (1 - wy) + bottom * wy;
    }
  }
  return out;
}

/**
 * Class-activation-style map from a C × H × W activation tensor: Σ_c weight_c · A_c(y, x).
 * With no weights, the channels' summed activation ("feature energy"): no class needs to be
 * right, which suits objects outside ImageNet's classes (packaging is barely in it).
 */
export function activationMap(acts: Float32Array, channels: number, h: number, w: number, weights?: Float32Array): Float32Array {
  const out = new Float32Array(h * w);
  const hw = h * w;
  for (let c = 0; c < channels; c++) {
    const wc = weights ? weights[c]! : 1;
    if (wc === 0) continue;
    const base = c * hw;
    for (let i = 0; i < hw; i++) out[i]! += wc * acts[base + i]!;
  }
  return out;
}

/** Rescales to [0, 1] (a constant map becomes all zeros). */
export function normalizeRange(map: Float32Array): Float32Array {
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of map) {
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  const out = new Float32Array(map.length);
  if (!(hi > lo)) return out;
  const s = 1 / (hi - lo);
  for (let i = 0; i < map.length; i++) out[i] = (map[i]! - lo) * s;
  return out;
}

/** An RGB image at working resolution (row-major, 3 bytes a pixel). */
export interface Rgb {
  width: number;
  height: number;
  data: Uint8Array;
}

const BITS = 4; // 16 levels a channel: 4096 colour bins
const LEVELS = 1 << BITS;

function binOf(data: Uint8Array, p: number): number {
  return ((data[3 * p]! >> (8 - BITS)) << (2 * BITS)) | ((data[3 * p + 1]! >> (8 - BITS)) << BITS) | (data[3 * p + 2]! >> (8 - BITS));
}

/** Box blur of a histogram over neighbouring colour bins: similar colours share evidence. */
function smoothHistogram(h: Float64Array): Float64Array {
  const out = new Float64Array(h.length);
  for (let r = 0; r < LEVELS; r++) {
    for (let g = 0; g < LEVELS; g++) {
      for (let b = 0; b < LEVELS; b++) {
        let s = 0;
        for (let dr = -1; dr <= 1; dr++) {
          const rr = r + dr;
          if (rr < 0 || rr >= LEVELS) continue;
          for (let dg = -1; dg <= 1; dg++) {
            const gg = g + dg;
            if (gg < 0 || gg >= LEVELS) continue;
            for (let db = -1; db <= 1; db++) {
              const bb = b + db;
              if (bb < 0 || bb >= LEVELS) continue;
              s += h[(rr << (2 * BITS)) | (gg << BITS) | bb]!;
            }
          }
        }
        out[(r << (2 * BITS)) | (g << BITS) | b] = s;
      }
    }
  }
  return out;
}

/**
 * Refines a soft prior (0..1 a pixel, same size as the image) with colour: foreground and
 * background colour histograms are weighted by the prior, each pixel's posterior is
 * prior-weighted P(fg | colour), and the result becomes the next prior. A few rounds move
 * the boundary from the coarse map's blur onto the object's edge.
 */
export function colourRefine(img: Rgb, prior: Float32Array, rounds = 3, priorWeight = 0.5): Float32Array {
  const n = img.width * img.height;
  const bins = new Uint16Array(n);
  for (let p = 0; p < n; p++) bins[p] = binOf(img.data, p);
  let current = prior;
  for (let r = 0; r < rounds; r++) {
    const fg = new Float64Array(LEVELS ** 3);
    const bg = new Float64Array(LEVELS ** 3);
    let fgTotal = 0;
    let bgTotal = 0;
    for (let p = 0; p < n; p++) {
      const f = current[p]!;
      fg[bins[p]!]! += f;
      bg[bins[p]!]! += 1 - f;
      fgTotal += f;
      bgTotal += 1 - f;
    }
    if (fgTotal < 1 || bgTotal < 1) break;
    const sf = smoothHistogram(fg);
    const sb = smoothHistogram(bg);
    const next = new Float32Array(n);
    for (let p = 0; p < n; p++) {
      const lf = sf[bins[p]!]! / fgTotal;
      const lb = sb[bins[p]!]! / bgTotal;
      // The colour likelihood ratio, tempered by the original prior so that colours found on
      // both sides (a white object on a white wall) defer to where the model looked.
      const pr = prior[p]! * priorWeight + 0.5 * (1 - priorWeight);
      const a = lf * pr;
      const b = lb * (1 - pr);
      next[p] = a + b > 0 ? a / (a + b) : 0;
    }
    current = next;
  }
  return current;
}

/**
 * Distance of each pixel's colour from the image border's colours (the backdrop of a product
 * shot): for each pixel, the distance to the nearest of `k` border colour clusters.
 */
export function borderContrast(img: Rgb, k = 6, border = 2): Float32Array {
  const { width: w, height: h, data } = img;
  const samples: number[][] = [];
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      if (x >= border && x < w - border && y >= border && y < h - border) continue;
      const p = y * w + x;
      samples.push([data[3 * p]!, data[3 * p + 1]!, data[3 * p + 2]!]);
    }
  }
  // k-means, initialised from evenly spaced border samples (deterministic).
  const centres = Array.from({ length: Math.min(k, samples.length) }, (_, i) => [...samples[Math.floor((i * samples.length) / k)]!]);
  for (let iter = 0; iter < 8; iter++) {
    const sum = centres.map(() => [0, 0, 0, 0]);
    for (const s of samples) {
      let best = 0;
      let bd = Infinity;
      centres.forEach((c, j) => {
        const d = (s[0]! - c[0]!) ** 2 + (s[1]! - c[1]!) ** 2 + (s[2]! - c[2]!) ** 2;
        if (d < bd) {
          bd = d;
          best = j;
        }
      });
      const acc = sum[best]!;
      acc[0]! += s[0]!;
      acc[1]! += s[1]!;
      acc[2]! += s[2]!;
      acc[3]!++;
    }
    sum.forEach((acc, j) => {
      if (acc[3]! > 0) centres[j] = [acc[0]! / acc[3]!, acc[1]! / acc[3]!, acc[2]! / acc[3]!];
    });
  }
  const out = new Float32Array(w * h);
  for (let p = 0; p < w * h; p++) {
    let bd = Infinity;
    for (const c of centres) {
      const d = (data[3 * p]! - c[0]!) ** 2 + (data[3 * p + 1]! - c[1]!) ** 2 + (data[3 * p + 2]! - c[2]!) ** 2;
      if (d < bd) bd = d;
    }
    out[p] = Math.sqrt(bd);
  }
  return out;
}
