import type { FactStage, ImageFacts } from '../core/facts.js';

/** A decoded image as fact readers take it: RGB, 3 bytes per pixel, rows top to bottom. */
export interface RgbImage {
  data: Uint8Array;
  width: number;
  height: number;
}

/**
 * One fact stage's model or method. Readers run in order objects → colours → text; each is
 * given the facts found so far (the colours stage names the colours inside the objects' boxes)
 * and returns the fields it fills. Boxes are in the pixels of the image it was given.
 */
export interface FactReader {
  readonly stage: FactStage;
  /** Model or method id, recorded in ImageFacts.stages. */
  readonly id: string;
  read(image: RgbImage, sofar: Readonly<Partial<ImageFacts>>): Promise<Partial<ImageFacts>>;
  close(): Promise<void>;
}
