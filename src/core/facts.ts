/**
 * Per-image facts: what the picture shows, in words. Computed at index time by optional
 * stages (objects and people, colours, text in the image), stored beside the items (the
 * `facts` side table) and read by search, filters, tags and the web page. Plain data, so
 * every layer can share it.
 */

/** The optional fact stages, each switched on or off per collection. */
export const FACT_STAGES = ['objects', 'colours', 'text', 'faces'] as const;
export type FactStage = (typeof FACT_STAGES)[number];

/** The eleven basic colour terms (Berlin & Kay), the names colours are stored and searched by. */
export const BASIC_COLOURS = ['black', 'white', 'grey', 'red', 'orange', 'yellow', 'green', 'blue', 'purple', 'pink', 'brown'] as const;
export type BasicColour = (typeof BASIC_COLOURS)[number];

/** A box in the image's own pixels: left, top, right, bottom (of the decoded, EXIF-rotated image). */
export type FactBox = [x1: number, y1: number, x2: number, y2: number];

/** One main colour of a region and the share of the region's pixels it names (0–1). */
export interface ColourShare {
  name: BasicColour;
  share: number;
}

/** One object or person found by the detector. */
export interface Detection {
  /** Detector class (COCO names: "person", "dog", "car", "dining table"…). */
  label: string;
  score: number;
  box: FactBox;
  /** The main colours inside the box, largest share first (when the colours stage ran). */
  colours?: ColourShare[];
}

/** One line or word of text read in the image. */
export interface TextLine {
  text: string;
  /** Recognition confidence, 0–1. */
  score: number;
  /** The axis-aligned box around the (possibly rotated) text. */
  box: FactBox;
}

/**
 * One face found by the faces stage. Its embedding (who it is) is stored apart, in the `faces`
 * table keyed to the image: `embedding` is set only on the way there, never in the facts table.
 */
export interface FaceFact {
  box: FactBox;
  score: number;
  /** Right eye, left eye, nose tip, right and left mouth corner, as x, y pairs in the image's pixels. */
  landmarks: number[];
  /** The face's smaller side in the pixels of the image the detector read (up to 1,280 px wide). */
  size: number;
  /** Variance of the Laplacian of the aligned 112×112 face: low means blurred. */
  sharpness: number;
  /** Too small, blurred or uncertain to be trusted: kept and shown, but never joins two persons. */
  low: boolean;
  embedding?: number[];
}

/**
 * The facts of one image. A stage that ran and found nothing stores an empty list, one that
 * did not run leaves its field out: `stages` says which ran, so search can tell "no dog"
 * from "not looked for".
 */
export interface ImageFacts {
  /** Stages that ran, with the model or method id each used (e.g. { objects: 'yolox-nano-coco' }). */
  stages: Partial<Record<FactStage, string>>;
  /** Size of the image the boxes refer to. */
  width: number;
  height: number;
  objects?: Detection[];
  /** The whole image's main colours, largest share first. */
  colours?: ColourShare[];
  text?: TextLine[];
  faces?: FaceFact[];
}

/** Objects kept per image: more are dropped, lowest scores first (crowds, textures read as objects). */
export const MAX_OBJECTS = 200;
/** Text boxes read per image: more are dropped, smallest first (a page of print is not a caption). */
export const MAX_TEXT_BOXES = 100;
/**
 * Recognition budget per image, in columns of text read (a box's width when scaled to 48 px
 * high): the largest boxes are read first. A page dense with print is read in about a second
 * of CPU instead of many.
 */
export const MAX_TEXT_COLUMNS = 6000;

/** Detections per class label: { person: 3, dog: 1 }. */
export function countObjects(objects: readonly Detection[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const o of objects) counts[o.label] = (counts[o.label] ?? 0) + 1;
  return counts;
}

/** The filter column of a class count: "person" → "person_count", "dining table" → "dining_table_count". */
export function countColumn(label: string): string {
  return `${label.replace(/[^a-z0-9]+/gi, '_').toLowerCase()}_count`;
}
