import { decodeForModel, DEFAULT_MAX_PIXELS } from '../image/decode.js';
import { VisorError } from '../errors.js';
import { contentId } from '../ingest/read-image.js';
import type { ImageEncoder } from '../models/types.js';
import type { VectorStore } from '../store/types.js';
import { hydrate, type SearchOptions, type SearchResult } from './results.js';

export interface ImageQueryOptions extends SearchOptions {
  /** Leave the query image itself out when it is in the index (default false). */
  excludeSelf?: boolean;
  maxPixels?: number;
}

export interface EncodedImage {
  /** Content id of the query bytes: equal to a stored item's id when the image is indexed. */
  id: string;
  vector: Float32Array;
  probs: Float32Array;
}

/** Decodes and embeds one query image exactly as the indexer does. */
export async function encodeImage(encoder: ImageEncoder, bytes: Buffer, maxPixels = DEFAULT_MAX_PIXELS): Promise<EncodedImage> {
  const limits = { maxPixels };
  const input = await (encoder.decode ? encoder.decode(bytes, limits) : decodeForModel(bytes, encoder.inputSize, limits));
  const batch = encoder.newBatch(1);
  encoder.pack(batch, 0, input.pixels);
  const emb = await encoder.run(batch, 1);
  return { id: contentId(bytes), vector: emb.features, probs: emb.probs };
}

/** Images most like the query image: near-duplicates first, then visually similar ones. */
export async function searchByImage(
  store: VectorStore,
  encoder: ImageEncoder,
  bytes: Buffer,
  opts: ImageQueryOptions = {},
): Promise<SearchResult[]> {
  const q = await encodeImage(encoder, bytes, opts.maxPixels);
  return searchByVector(store, q.vector, { ...opts, exclude: opts.excludeSelf ? [q.id] : [] });
}

/** Images most like an indexed item ("more like this"). */
export async function searchSimilarTo(store: VectorStore, id: string, opts: ImageQueryOptions = {}): Promise<SearchResult[]> {
  const [item] = await store.getItemsWithVectors([id]);
  if (!item) throw new VisorError('NOT_FOUND', `no item with id ${id}`);
  return searchByVector(store, item.vector, { ...opts, exclude: opts.excludeSelf ? [id] : [] });
}

export async function searchByVector(
  store: VectorStore,
  vector: Float32Array,
  opts: SearchOptions & { exclude?: string[] },
): Promise<SearchResult[]> {
  const k = opts.k ?? 10;
  const offset = opts.offset ?? 0;
  if (!Number.isInteger(k) || k < 1) throw new VisorError('QUERY_INVALID', `k must be a positive integer, got ${k}`);
  if (!Number.isInteger(offset) || offset < 0) throw new VisorError('QUERY_INVALID', `offset must be a non-negative integer, got ${offset}`);
  const hits = await store.search(normalized(vector), {
    k: k + offset,
    where: opts.where,
    exact: opts.exact,
    exclude: new Set(opts.exclude ?? []),
  });
  return hydrate(store, hits, offset);
}

function normalized(v: Float32Array): Float32Array {
  let n = 0;
  for (const x of v) n += x * x;
  const inv = n > 0 ? 1 / Math.sqrt(n) : 0;
  return v.map((x) => x * inv);
}
