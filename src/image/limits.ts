/** Guards applied before any pixel is decoded. Kept apart from decode.ts so they load without sharp. */
export interface DecodeLimits {
  /** Images with more pixels than this are refused before decoding (decompression bombs). */
  maxPixels: number;
}

export const DEFAULT_MAX_PIXELS = 200_000_000; // a 200-megapixel camera frame still passes
