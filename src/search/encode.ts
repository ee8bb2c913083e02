/**
 * The pipeline's second step: a query's images, items and their weights become vectors in the
 * space searched, and one visual query vector — the weighted mean of what to look like, moved
 * away from what not to look like (rclip's and Marqo's negative terms, Rocchio's relevance
 * feedback).
 */
import { normalise } from '../core/vector.js';
import { VisorError, isVisorError } from '../errors.js';
import { DEFAULT_MAX_PIXELS } from '../image/limits.js';
import { readQueryImage } from './read-query-image.js';
import type { ImageRef, Query, WeightedImage } from './query.js';
import type { SearchStore } from './store.js';

/** Embeds a query image exactly as the indexer embedded the collection. */
export interface QueryImageEncoder {
  encodeImage(bytes: Buffer, maxPixels: number): Promise<EncodedImage>;
}

export interface EncodedImage {
  /** Content id of the query bytes: equal to a stored item's id when the image is indexed. */
  id: string;
  /** Unit length, in the space searched. */
  vector: Float32Array;
  /** Class probabilities, when the model has classes (else empty). */
  probs: Float32Array;
}

/** The encoder of the main image features, or of a further embedding space. */
export type QueryEncoders = (space: string | undefined) => Promise<QueryImageEncoder>;

export interface EncodedTerm extends EncodedImage {
  weight: number;
}

export interface EncodedQuery {
  /** The embedding space searched: undefined for the collection's main image features. */
  space?: string;
  positive: EncodedTerm[];
  negative: EncodedTerm[];
  /** Items ids never returned: liked and unliked items, and with excludeSelf the query images. */
  exclude: Set<string>;
  /** The visual query: unit length, or null when the query has no image to look like. */
  toward: Float32Array | null;
  /** Images to avoid when there is nothing to look like (words only), unit length, or null. */
  away: Float32Array | null;
}

/** How far a query moves away from its negative images, relative to its positive ones. */
export const NEGATIVE_IMAGE_SHARE = 0.5;

export function asWeighted(x: ImageRef | WeightedImage): WeightedImage {
  return typeof x === 'object' && !Buffer.isBuffer(x) && 'image' in x ? { image: x.image, weight: x.weight ?? 1 } : { image: x, weight: 1 };
}

async function encodeRef(ref: ImageRef, encoder: () => Promise<QueryImageEncoder>, store: SearchStore, maxPixels: number): Promise<EncodedImage> {
  if (typeof ref === 'object' && !Buffer.isBuffer(ref)) {
    const [item] = await store.getItemsWithVectors([ref.id]);
    if (!item) throw new VisorError('NOT_FOUND', `no item with id ${ref.id}`);
    return { id: item.id, vector: item.vector, probs: item.probs };
  }
  const bytes = typeof ref === 'string' ? await readQueryImage(ref) : ref;
  try {
    return await (await encoder()).encodeImage(bytes, maxPixels);
  } catch (e) {
    // With several query images, which one is broken matters.
    if (typeof ref === 'string' && isVisorError(e, 'IMAGE_INVALID')) throw new VisorError('IMAGE_INVALID', `query image ${ref}: ${e.message}`, { cause: e });
    throw e;
  }
}

function weightedMean(terms: Array<{ vector: Float32Array; weight: number }>): Float32Array | null {
  if (terms.length === 0) return null;
  const q = new Float32Array(terms[0]!.vector.length);
  let total = 0;
  for (const t of terms) {
    total += t.weight;
    for (let i = 0; i < q.length; i++) q[i]! += t.weight * t.vector[i]!;
  }
  return q.map((x) => x / (total || 1));
}

/** Encodes a query's images and items; `negativeWeight` is the query's weight for negative terms. */
export async function encodeQuery(query: Query, store: SearchStore, encoders: QueryEncoders, negativeWeight: number): Promise<EncodedQuery> {
  const space = query.space;
  const images = (query.images ?? []).map(asWeighted);
  const notImages = (query.notImages ?? []).map(asWeighted);
  const like = query.like ?? [];
  const unlike = query.unlike ?? [];
  if (space !== undefined && (like.length || unlike.length || [...images, ...notImages].some((t) => typeof t.image === 'object' && !Buffer.isBuffer(t.image)))) {
    throw new VisorError(
      'QUERY_INVALID',
      `in the ${space} space, query images must be image files: items to find more or less like are compared in the main image features`,
    );
  }
  const encoder = () => encoders(space);
  const maxPixels = query.maxPixels ?? DEFAULT_MAX_PIXELS;
  const encoded = await Promise.all(
    [...images, ...notImages].map(async (t) => ({ ...(await encodeRef(t.image, encoder, store, maxPixels)), weight: t.weight ?? 1 })),
  );
  const positive = encoded.slice(0, images.length);
  const negative = encoded.slice(images.length);
  const feedback = await store.getItemsWithVectors([...like, ...unlike]);
  const missing = [...like, ...unlike].filter((id) => !feedback.some((f) => f.id === id));
  if (missing.length) throw new VisorError('NOT_FOUND', `no item with id ${missing.join(', ')}`);
  const exclude = new Set<string>([...like, ...unlike]);
  if (query.excludeSelf) for (const e of encoded) exclude.add(e.id);

  const toward = weightedMean([...positive, ...feedback.filter((f) => like.includes(f.id)).map((f) => ({ vector: f.vector, weight: 1 }))]);
  const away = weightedMean([...negative, ...feedback.filter((f) => unlike.includes(f.id)).map((f) => ({ vector: f.vector, weight: 1 }))]);
  return {
    space,
    positive,
    negative,
    exclude,
    toward: toward ? normalise(away ? toward.map((x, i) => x - NEGATIVE_IMAGE_SHARE * negativeWeight * away[i]!) : toward) : null,
    away: !toward && away ? normalise(away) : null,
  };
}
