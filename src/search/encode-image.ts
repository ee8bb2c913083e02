import { decodeForModel, DEFAULT_MAX_PIXELS } from '../image/decode.js';
import { contentId } from '../ingest/read-image.js';
import type { ImageEncoder } from '../models/types.js';
import type { EncodedImage } from './encode.js';

/** Decodes and embeds one query image exactly as the indexer does. */
export async function encodeImage(encoder: ImageEncoder, bytes: Buffer, maxPixels = DEFAULT_MAX_PIXELS): Promise<EncodedImage> {
  const limits = { maxPixels };
  const input = await (encoder.decode ? encoder.decode(bytes, limits) : decodeForModel(bytes, encoder.inputSize, limits));
  const batch = encoder.newBatch(1);
  encoder.pack(batch, 0, input.pixels);
  const emb = await encoder.run(batch, 1);
  return { id: contentId(bytes), vector: emb.features, probs: emb.probs };
}
