/**
 * `visor-lab eval colours`: do the colour facts find "<colour> <shape>"? The gallery is scenes
 * of the composed-retrieval benchmark (lab/eval/css: circles, squares and triangles in CLEVR's
 * colours on a light grey ground), whose objects' colours are known. Each configuration
 * computes every scene's facts with the colours reader, then ranks the gallery for each query
 * with a pluggable ranking function, so the same queries can later run through the search engine.
 */
import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { BASIC_COLOURS, type BasicColour, type Detection, type ImageFacts } from '../../src/core/facts.js';
import { createColoursReader, objectColours, type ColoursReaderOptions } from '../../src/facts/colours-reader.js';
import type { RgbImage } from '../../src/facts/reader.js';
import { rng } from '../random.js';
import { objectBox, renderScenePng } from './css/render.js';
import { COLOUR_NAMES, MAX_OBJECTS, MIN_OBJECTS, SHAPES, randomScene, type Colour, type Scene, type Shape } from './css/scene.js';
import { averagePrecisionNormalized, mean } from './metrics.js';

/**
 * CLEVR's colour names → the basic term that binds to them. Cyan (#29d0d0, OKLCh hue 195°)
 * lies on the blue–green boundary, where English speakers split: a cyan shape is relevant to
 * neither "blue" nor "green" and is left out of those queries' judgements (neither a hit nor a miss).
 */
export const CLEVR_TO_BASIC: Record<Colour, BasicColour | null> = {
  gray: 'grey',
  red: 'red',
  blue: 'blue',
  green: 'green',
  brown: 'brown',
  purple: 'purple',
  cyan: null,
  yellow: 'yellow',
};
const AMBIGUOUS: Partial<Record<Colour, BasicColour[]>> = { cyan: ['blue', 'green'] };

/** A query: a colour, with or without a shape word ("red", "red circle"). */
export interface ColourQuery {
  colour: BasicColour;
  shape?: Shape;
  text: string;
}

/** Ranks the gallery for a query: indices into `gallery`, best first (every index once). */
export type RankFn = (query: ColourQuery, gallery: readonly ImageFacts[]) => number[];

function byScore(gallery: readonly ImageFacts[], score: (f: ImageFacts) => number): number[] {
  const scores = gallery.map(score);
  return gallery.map((_, i) => i).sort((a, b) => scores[b]! - scores[a]! || a - b);
}

const shareIn = (colours: ImageFacts['colours'] | Detection['colours'], name: BasicColour) => colours?.find((c) => c.name === name)?.share ?? 0;

/** The image's share of the query's colour; the shape word is not read (shapes are not detector classes). */
export const rankByImageColour: RankFn = (q, gallery) => byScore(gallery, (f) => shareIn(f.colours, q.colour));

/**
 * The best share of the query's colour in a box labelled with the query's shape (colour bound
 * to the object, as "red car" binds to cars' boxes); the image's share breaks ties, and
 * without a shape word it is the whole score.
 */
export const rankByObjectColour: RankFn = (q, gallery) =>
  byScore(gallery, (f) => {
    const image = shareIn(f.colours, q.colour);
    if (!q.shape) return image;
    const boxes = (f.objects ?? []).filter((d) => d.label === q.shape).map((d) => shareIn(d.colours, q.colour));
    return Math.max(0, ...boxes) + 1e-3 * image;
  });

export interface ColoursEvalOptions {
  /** Scenes in the gallery (default 1000). */
  scenes?: number;
  /** Side of the rendered scenes in pixels (default 128). */
  imageSize?: number;
  seed?: number;
  /**
   * Margin added to each object's tight box on every side, as a fraction of its size (default
   * 0.1): a detector's boxes are rarely tight, so the box holds some background.
   */
  boxMargin?: number;
  onProgress?: (phase: string, done: number, total: number) => void;
}

export interface QueryFigures {
  queries: number;
  map: number;
  /** mAP per colour (over its queries). */
  perColour: Partial<Record<BasicColour, number>>;
}

export interface ColoursConfigResult {
  name: string;
  description: string;
  /** "<colour>": relevant = scenes with an object of that colour. */
  colour: QueryFigures;
  /** "<colour> <shape>": relevant = scenes with an object of that colour and shape. */
  colourShape: QueryFigures;
}

export interface ColoursEvalReport {
  protocol: string;
  data: { scenes: number; imageSize: number; seed: number; objectsPerScene: string; boxMargin: number; colourMap: Record<string, string> };
  /**
   * Share of the scenes' objects whose box's first colour is the object's colour (cyan objects
   * excluded), by the box's centre weighting (0: every pixel alike … 1: the edges count for nothing).
   */
  boxTopColourAccuracy: Record<string, number>;
  configs: ColoursConfigResult[];
  /** The colours reader's cost per image (median of repeated reads), ms, with three object boxes. */
  cost: Record<string, number>;
  seconds: number;
}

export interface GalleryScene {
  scene: Scene;
  image: RgbImage;
  /** The PNG's path, when the gallery was written to a folder (to index it through a collection). */
  file?: string;
  /** One detection per object, labelled with its shape, its box padded by the margin. */
  objects: Detection[];
}

async function rgbOf(png: Buffer): Promise<RgbImage> {
  const { data, info } = await sharp(png).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  return { data: new Uint8Array(data.buffer, data.byteOffset, data.length), width: info.width, height: info.height };
}

function detections(scene: Scene, pixels: number, margin: number): Detection[] {
  return scene.flatMap((o, cell) => {
    if (!o) return [];
    const [x1, y1, x2, y2] = objectBox(o, cell, pixels);
    const mx = margin * (x2 - x1);
    const my = margin * (y2 - y1);
    const box: Detection['box'] = [Math.max(0, x1 - mx), Math.max(0, y1 - my), Math.min(pixels, x2 + mx), Math.min(pixels, y2 + my)];
    return [{ label: o.shape, score: 1, box }];
  });
}

/** A query and its relevance over the gallery: 1 relevant, 0 not, -1 left out (ambiguous). */
export interface JudgedQuery {
  query: ColourQuery;
  judgement: Int8Array;
}

/** The queries, "<colour>" and "<colour> <shape>" for every colour and shape present, each judged over the gallery. */
export function queriesFor(gallery: readonly GalleryScene[]): JudgedQuery[] {
  const colours = [...new Set(Object.values(CLEVR_TO_BASIC).filter((c): c is BasicColour => c !== null))];
  const out: JudgedQuery[] = [];
  for (const colour of colours) {
    for (const shape of [undefined, ...SHAPES]) {
      const judgement = new Int8Array(gallery.length);
      gallery.forEach((g, i) => {
        const matching = g.scene.filter((o) => o && (!shape || o.shape === shape));
        if (matching.some((o) => CLEVR_TO_BASIC[o!.colour] === colour)) judgement[i] = 1;
        else if (matching.some((o) => AMBIGUOUS[o!.colour]?.includes(colour))) judgement[i] = -1;
      });
      if (judgement.includes(1)) out.push({ query: { colour, shape, text: shape ? `${colour} ${shape}` : colour }, judgement });
    }
  }
  return out;
}

function figures(results: Array<{ query: ColourQuery; ap: number }>): QueryFigures {
  const perColour: Partial<Record<BasicColour, number>> = {};
  for (const c of BASIC_COLOURS) {
    const aps = results.filter((r) => r.query.colour === c).map((r) => r.ap);
    if (aps.length) perColour[c] = mean(aps);
  }
  return { queries: results.length, map: mean(results.map((r) => r.ap)), perColour };
}

/** mAP of a ranking function over the queries, the ambiguous scenes of each query taken out of its ranking. */
export function evaluateRanking(
  rank: RankFn,
  facts: readonly ImageFacts[],
  queries: readonly JudgedQuery[],
): { colour: QueryFigures; colourShape: QueryFigures } {
  const results = queries.map(({ query, judgement }) => {
    const order = rank(query, facts).filter((i) => judgement[i] !== -1);
    const relevant = Uint8Array.from(order, (i) => (judgement[i] === 1 ? 1 : 0));
    return { query, ap: averagePrecisionNormalized({ relevant, totalRelevant: judgement.filter((j) => j === 1).length }) };
  });
  return { colour: figures(results.filter((r) => !r.query.shape)), colourShape: figures(results.filter((r) => r.query.shape)) };
}

interface Config {
  name: string;
  description: string;
  reader: ColoursReaderOptions;
  rank: RankFn;
}

const CONFIGS: Config[] = [
  {
    name: 'image',
    description: "image colours, backdrop kept: score = the image's share of the colour",
    reader: { dropBackdrop: false },
    rank: rankByImageColour,
  },
  {
    name: 'image-no-backdrop-10%',
    description: 'image colours, the plain backdrop left out, shares under 0.1 dropped (4 colours at most)',
    reader: { imageMinShare: 0.1, imageMax: 4 },
    rank: rankByImageColour,
  },
  {
    name: 'image-no-backdrop',
    description: "image colours, the plain backdrop left out, shares under 0.05 dropped (5 colours at most: the reader's default)",
    reader: {},
    rank: rankByImageColour,
  },
  {
    name: 'boxes',
    description: "colours of the boxes labelled with the query's shape (the reader's default centre weighting): score = the best box's share",
    reader: {},
    rank: rankByObjectColour,
  },
];

/** Centre weightings of object boxes compared by {@link ColoursEvalReport.boxTopColourAccuracy}. */
const BOX_CENTRES = [0, 0.25, 0.5, 0.75, 1];

function boxTopColourAccuracy(gallery: readonly GalleryScene[], centre: number): number {
  let right = 0;
  let total = 0;
  for (const g of gallery) {
    const named = objectColours(g.image, g.objects, { boxCentre: centre });
    g.scene
      .filter((o) => o !== null)
      .forEach((o, j) => {
        const want = CLEVR_TO_BASIC[o.colour];
        if (!want) return;
        total++;
        if (named[j]!.colours?.[0]?.name === want) right++;
      });
  }
  return right / total;
}

/**
 * The gallery: `scenes` random scenes rendered at `imageSize` pixels, with their true object
 * boxes as detections. With `dir`, the PNGs are also written there (scene-000000.png …), for
 * running the same queries through a collection's search.
 */
export async function colourGallery(opts: ColoursEvalOptions & { dir?: string } = {}): Promise<GalleryScene[]> {
  const n = opts.scenes ?? 1000;
  const size = opts.imageSize ?? 128;
  const random = rng(opts.seed ?? 11);
  const gallery: GalleryScene[] = [];
  if (opts.dir) fs.mkdirSync(opts.dir, { recursive: true });
  for (let i = 0; i < n; i++) {
    const scene = randomScene(random, MIN_OBJECTS + Math.floor(random() * (MAX_OBJECTS - MIN_OBJECTS + 1)));
    const png = await renderScenePng(scene, size);
    const file = opts.dir ? path.join(opts.dir, `scene-${String(i).padStart(6, '0')}.png`) : undefined;
    if (file) fs.writeFileSync(file, png);
    gallery.push({ scene, image: await rgbOf(png), file, objects: detections(scene, size, opts.boxMargin ?? 0.1) });
    if ((i + 1) % 100 === 0 || i + 1 === n) opts.onProgress?.('rendering', i + 1, n);
  }
  return gallery;
}

/** Runs the evaluation: generate and render the gallery, read its colours under each configuration, rank, score. */
export async function evalColours(opts: ColoursEvalOptions = {}): Promise<ColoursEvalReport> {
  const started = performance.now();
  const n = opts.scenes ?? 1000;
  const size = opts.imageSize ?? 128;
  const seed = opts.seed ?? 11;
  const margin = opts.boxMargin ?? 0.1;
  const gallery = await colourGallery(opts);
  const queries = queriesFor(gallery);

  const configs: ColoursConfigResult[] = [];
  for (const [k, c] of CONFIGS.entries()) {
    const reader = createColoursReader(c.reader);
    const facts: ImageFacts[] = [];
    for (const g of gallery) {
      const f = await reader.read(g.image, { objects: g.objects });
      facts.push({ stages: { colours: reader.id }, width: g.image.width, height: g.image.height, ...f });
    }
    configs.push({ name: c.name, description: c.description, ...evaluateRanking(c.rank, facts, queries) });
    opts.onProgress?.('configurations', k + 1, CONFIGS.length);
  }
  const boxAccuracy = Object.fromEntries(BOX_CENTRES.map((c) => [`centre ${c}`, boxTopColourAccuracy(gallery, c)]));

  // Cost: the default reader on scenes of 224 and 1024 pixels with three object boxes each.
  const cost: Record<string, number> = {};
  const reader = createColoursReader();
  for (const px of [224, 1024]) {
    const scene = randomScene(rng(seed + px), 3);
    const image = await rgbOf(await renderScenePng(scene, px));
    const objects = detections(scene, px, margin);
    await reader.read(image, { objects }); // the lookup table is built on first use
    const times: number[] = [];
    for (let i = 0; i < 50; i++) {
      const t = performance.now();
      await reader.read(image, { objects });
      times.push(performance.now() - t);
    }
    cost[`${px}px`] = times.sort((a, b) => a - b)[25]!;
  }

  return {
    protocol:
      `Colour facts on ${n} generated scenes (lab/eval/css: ${SHAPES.join(', ')} in CLEVR's ${COLOUR_NAMES.length} colours on a light grey ground, ` +
      `${MIN_OBJECTS}–${MAX_OBJECTS} objects each). Queries "<colour>" and "<colour> <shape>" for every colour and shape present; ` +
      'relevant: scenes holding an object of that colour (and shape). mAP over the whole ranking. Object boxes are the true ones, ' +
      `labelled with the shape and padded by ${margin * 100}% a side, standing in for a detector.`,
    data: {
      scenes: n,
      imageSize: size,
      seed,
      objectsPerScene: `${MIN_OBJECTS}–${MAX_OBJECTS}`,
      boxMargin: margin,
      colourMap: Object.fromEntries(Object.entries(CLEVR_TO_BASIC).map(([k, v]) => [k, v ?? 'blue or green: left out of blue and green queries'])),
    },
    boxTopColourAccuracy: boxAccuracy,
    configs,
    cost,
    seconds: (performance.now() - started) / 1000,
  };
}
