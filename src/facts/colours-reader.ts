import { BASIC_COLOURS, type BasicColour, type ColourShare, type Detection, type ImageFacts } from '../core/facts.js';
import { backdropColour, colourHistogram, sharesOf, type MainColoursOptions } from '../image/colour-names.js';
import type { FactReader, RgbImage } from './reader.js';

/** The colours stage's method id: the eleven basic colour terms named in OKLCh (src/image/colour-names.ts). */
export const COLOURS_READER_ID = 'oklab-basic-11';

export interface ColoursReaderOptions {
  /**
   * The image's colours: shares below `imageMinShare` are dropped (default 0.05), at most
   * `imageMax` kept (default 5). Lower than for boxes, so a small object's colour still counts
   * (on the generated scenes, 0.1 lost colour queries 3.5 points of mAP, see lab/eval/colours.ts).
   */
  imageMinShare?: number;
  imageMax?: number;
  /** Each object box's colours: shares below `boxMinShare` dropped (default 0.1), at most `boxMax` kept (default 4). */
  boxMinShare?: number;
  boxMax?: number;
  /**
   * Centre weighting of object boxes, 0–1 (default 1: the weight falls to nothing at the box's
   * edges, where the background is; measured best by `npm run eval -- colours`).
   */
  boxCentre?: number;
  /**
   * Leave a plain backdrop (one colour along the whole border, as in studio shots and
   * drawings) out of the image's colours, so that what stands on it counts (default true).
   * Object boxes keep every colour.
   */
  dropBackdrop?: boolean;
  /** Pixels sampled at most for the whole image (default 4096) and per box (default 1024). */
  imageSamples?: number;
  boxSamples?: number;
}

/**
 * Below this share of the image, what is not backdrop is noise and the backdrop is the image's
 * colour. Small: one small shape on a plain ground covers 0.4% of the image.
 */
const MIN_FOREGROUND = 0.002;

/** The whole image's main colours, the backdrop left out when one is found and something stands on it. */
export function imageColours(image: RgbImage, opts: ColoursReaderOptions = {}): ColourShare[] {
  const shares: Pick<MainColoursOptions, 'minShare' | 'max'> = { minShare: opts.imageMinShare ?? 0.05, max: opts.imageMax ?? 5 };
  const hist = colourHistogram(image, undefined, { centre: 0, samples: opts.imageSamples ?? 4096 });
  const backdrop: BasicColour | null = (opts.dropBackdrop ?? true) ? backdropColour(image) : null;
  if (backdrop) {
    const total = hist.reduce((a, b) => a + b, 0);
    const foreground = 1 - hist[BASIC_COLOURS.indexOf(backdrop)]! / total;
    if (foreground >= MIN_FOREGROUND) return sharesOf(hist, { ...shares, exclude: [backdrop] });
  }
  return sharesOf(hist, shares);
}

/** The main colours inside each detection's box, centre-weighted (the box's edges hold background). */
export function objectColours(image: RgbImage, objects: readonly Detection[], opts: ColoursReaderOptions = {}): Detection[] {
  const centre = opts.boxCentre ?? 1;
  const samples = opts.boxSamples ?? 1024;
  return objects.map((d) => ({ ...d, colours: sharesOf(colourHistogram(image, d.box, { centre, samples }), { minShare: opts.boxMinShare, max: opts.boxMax }) }));
}

/**
 * The colours fact stage: the image's main colours, and the colours inside every object box
 * found before it (the objects stage runs first). No model: a histogram over at most a few
 * thousand sampled pixels per region, through a lookup table.
 */
export function createColoursReader(opts: ColoursReaderOptions = {}): FactReader {
  return {
    stage: 'colours',
    id: COLOURS_READER_ID,
    async read(image: RgbImage, sofar: Readonly<Partial<ImageFacts>>): Promise<Partial<ImageFacts>> {
      const colours = imageColours(image, opts);
      return sofar.objects ? { colours, objects: objectColours(image, sofar.objects, opts) } : { colours };
    },
    async close(): Promise<void> {},
  };
}
