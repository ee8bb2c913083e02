import { VisorError } from '../../src/errors.js';

/**
 * Where the extra distractors come from, in the order they are taken: after the Flickr8k
 * train+dev photos, the LFW face photos, then the CIFAR-10 test images. Never the benchmark's
 * own originals or their edited copies.
 */
export const EXTRA_SOURCES = ['lfw', 'cifar10'] as const;
export type DistractorSource = 'flickr8k' | (typeof EXTRA_SOURCES)[number];

/** The benchmark collection's own pictures: originals, their copies, and the Flickr8k distractors. */
export interface BaseCollection {
  originals: number;
  copies: number;
  flickrDistractors: number;
}

/** One requested size: how many images, and which distractors make it up, or how many pictures it lacks. */
export interface ScaleSize {
  /** Multiple of the benchmark collection (originals + copies + Flickr8k distractors). */
  scale: number;
  images: number;
  /** Distractors by source, in the order taken. */
  distractors: Record<DistractorSource, number>;
  /** Pictures missing for this size: it is not measured. */
  short?: number;
  /** Not a requested size: the whole of what is here, measured because a requested size is short of pictures. */
  allAvailable?: boolean;
}

/**
 * Parses `--scale 1,2,4`: multiples of the benchmark collection, each 1 or more (a smaller
 * collection would need fewer copies or Flickr8k photos, which `--limit` gives). Sorted, each once.
 */
export function parseScales(text: string): number[] {
  const parts = text.split(',').map((s) => s.trim());
  const scales = parts.map(Number);
  const bad = parts.filter((p, i) => p === '' || !Number.isFinite(scales[i]) || scales[i]! < 1);
  if (bad.length || !parts.length)
    throw new VisorError(
      'QUERY_INVALID',
      `--scale takes multiples of the benchmark collection, 1 or more, separated by commas (e.g. 1,2,4); got ${JSON.stringify(text)}`,
    );
  return [...new Set(scales)].sort((a, b) => a - b);
}

/**
 * The sizes to measure. A size of `scale` × the benchmark collection keeps all its originals,
 * copies and Flickr8k distractors and takes the rest from the extra distractors in their fixed
 * order (`extras`: how many of each source are here). A size beyond what is here is marked short
 * (by how many pictures) and not padded; the whole of what is here is then measured as well,
 * as the largest size these data sets allow.
 */
export function planScaleSizes(base: BaseCollection, extras: Record<(typeof EXTRA_SOURCES)[number], number>, scales: readonly number[]): ScaleSize[] {
  const baseImages = base.originals + base.copies + base.flickrDistractors;
  const extraTotal = EXTRA_SOURCES.reduce((s, k) => s + extras[k], 0);
  const available = baseImages + extraTotal;
  const compose = (images: number): ScaleSize['distractors'] => {
    let rest = images - baseImages;
    const d: ScaleSize['distractors'] = { flickr8k: base.flickrDistractors, lfw: 0, cifar10: 0 };
    for (const k of EXTRA_SOURCES) {
      d[k] = Math.min(rest, extras[k]);
      rest -= d[k];
    }
    return d;
  };
  const out: ScaleSize[] = scales.map((scale) => {
    const images = Math.round(scale * baseImages);
    if (images > available) return { scale, images, distractors: compose(available), short: images - available };
    return { scale, images, distractors: compose(images) };
  });
  const largest = Math.max(0, ...out.filter((s) => s.short === undefined).map((s) => s.images));
  if (out.some((s) => s.short !== undefined) && largest < available)
    out.push({ scale: available / baseImages, images: available, distractors: compose(available), allAvailable: true });
  return out;
}

/** Says what a short size lacks, e.g. "4× = 36,000 images: 6,044 pictures short (the largest measurable here is 29,956 images, 3.33×)". */
export function shortMessage(size: ScaleSize, sizes: readonly ScaleSize[]): string {
  const largest = sizes.filter((s) => s.short === undefined).at(-1);
  const n = (x: number) => x.toLocaleString('en-GB');
  return (
    `${size.scale}× = ${n(size.images)} images: ${n(size.short ?? 0)} pictures short, not measured` +
    (largest ? ` (the largest measurable here is ${n(largest.images)} images, ${largest.scale.toFixed(2)}×)` : '')
  );
}
