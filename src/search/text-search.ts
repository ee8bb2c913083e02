import { VisorError } from '../errors.js';
import type { JointModel } from '../models/joint-model.js';
import { ExactKernel } from '../store/exact-kernel.js';
import type { VectorStore } from '../store/types.js';
import { jointImageMatrix } from './joint-space.js';
import { hydrate, type SearchOptions, type SearchResult } from './results.js';

/** Rows allowed by a catalogue filter, asked of the store through its public search. */
async function allowedIds(store: VectorStore, where: string, n: number): Promise<Set<string>> {
  const hits = await store.searchMany(new Float32Array(store.dimension), 1, { k: n, where, exact: true });
  const ids = new Set<string>();
  for (let j = 0; j < hits.k; j++) if (hits.scores[j] !== -Infinity) ids.add(hits.ids[hits.rows[j]!]!);
  return ids;
}

/**
 * Images best described by a sentence: the sentence and every stored image go through the
 * joint model, and the exact kernel ranks the images by cosine in the joint space.
 */
export async function searchByText(store: VectorStore, model: JointModel, text: string, opts: SearchOptions = {}): Promise<SearchResult[]> {
  const k = opts.k ?? 10;
  const offset = opts.offset ?? 0;
  if (!text.trim()) throw new VisorError('QUERY_INVALID', 'empty text query');
  if (!Number.isInteger(k) || k < 1) throw new VisorError('QUERY_INVALID', `k must be a positive integer, got ${k}`);
  const images = await jointImageMatrix(store, model);
  const n = images.ids.length;
  if (n === 0) return [];
  const bias = Float32Array.from(images.bias); // hubness (querybank normalisation); a copy, as filters write to it
  if (opts.where) {
    const allowed = await allowedIds(store, opts.where, n);
    images.ids.forEach((id, i) => {
      if (!allowed.has(id)) bias[i] = -Infinity;
    });
  }
  const kernel = await ExactKernel.create();
  try {
    const top = await kernel.topK(model.encodeText([text]), 1, images.matrix, n, bias, k + offset);
    const hits = [];
    for (let j = 0; j < top.k && top.scores[j] !== -Infinity; j++) hits.push({ id: images.ids[top.rows[j]!]!, score: top.scores[j]! });
    return hydrate(store, hits, offset);
  } finally {
    await kernel.close();
  }
}
