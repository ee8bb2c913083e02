import { MAX_TEXT_BOXES, MAX_TEXT_COLUMNS, type FactBox, type ImageFacts, type TextLine } from '../core/facts.js';
import { PADDLE_OCR_ID, PaddleOcr, type PaddleOcrOptions } from '../models/ocr/paddle-ocr.js';
import type { FactReader, RgbImage } from './reader.js';

/**
 * Recognition confidence a line needs to be kept. Chosen on the OCR benchmark
 * (`npm run eval -- ocr`): on Flickr8k photos with no rendered word, text invented from
 * textures was kept for under 1 % of them (checked by eye; most text read there is real:
 * shirts, signs, numbers), while a higher threshold loses rendered words that were read right.
 */
export const TEXT_MIN_SCORE = 0.7;

/**
 * Whether a line read is kept as text in the image: confident enough, and at least two
 * letters or digits (a lone character is most often a texture read as text, and seldom
 * something anyone searches for).
 */
export function keepTextLine(text: string, score: number, minScore = TEXT_MIN_SCORE): boolean {
  return score >= minScore && (text.match(/[\p{L}\p{N}]/gu)?.length ?? 0) >= 2;
}

export interface TextReaderOptions extends PaddleOcrOptions {
  /** Lines read with less confidence are dropped (default TEXT_MIN_SCORE). */
  minScore?: number;
}

/** The 'text' fact stage: PaddleOCR PP-OCRv4, detection over the image, recognition of the boxes found. */
export class TextReader implements FactReader {
  readonly stage = 'text' as const;
  readonly id = PADDLE_OCR_ID;

  private constructor(
    private readonly ocr: PaddleOcr,
    private readonly minScore: number,
  ) {}

  static async load(opts: TextReaderOptions = {}): Promise<TextReader> {
    return new TextReader(await PaddleOcr.load({ maxBoxes: MAX_TEXT_BOXES, maxColumns: MAX_TEXT_COLUMNS, ...opts }), opts.minScore ?? TEXT_MIN_SCORE);
  }

  async read(image: RgbImage): Promise<Partial<ImageFacts>> {
    const lines = await this.ocr.read(image.data, image.width, image.height);
    const text: TextLine[] = [];
    for (const l of lines) {
      if (!keepTextLine(l.text, l.score, this.minScore)) continue;
      text.push({ text: l.text, score: Math.round(l.score * 1000) / 1000, box: l.box as FactBox });
    }
    return { text };
  }

  async close(): Promise<void> {
    await this.ocr.close();
  }
}
