import fs from 'node:fs/promises';
import { VisorError } from '../errors.js';
import type { FeatureRows } from '../classify/features.js';
import type { VectorStore } from '../store/port.js';
import type { ObjectEncoder } from './object-encoder.js';

/**
 * Features of the left–right mirror of each stored item (`ids` order), for a classifier that
 * trains on mirrors as extra samples (a category rarely depends on handedness). Read from the
 * item's file and flipped after decoding, exactly as a query's mirror is: one model run per
 * item, about what indexing the items cost.
 */
export async function mirroredRows(
  store: VectorStore,
  encoder: ObjectEncoder,
  ids: readonly string[],
  opts: { batchSize?: number; onProgress?: (done: number, total: number) => void } = {},
): Promise<FeatureRows> {
  const batchSize = opts.batchSize ?? 16;
  let features: Float32Array | null = null;
  let probs: Float32Array | null = null;
  opts.onProgress?.(0, ids.length);
  for (let start = 0; start < ids.length; start += batchSize) {
    const chunk = ids.slice(start, start + batchSize);
    const items = new Map((await store.getItems(chunk)).map((it) => [it.id, it]));
    const bytes = await Promise.all(
      chunk.map(async (id) => {
        for (const p of items.get(id)?.paths ?? []) {
          try {
            return await fs.readFile(p);
          } catch {
            // try the item's next path
          }
        }
        throw new VisorError('NOT_FOUND', `cannot read the image of item ${id} (needed for its mirror image)`);
      }),
    );
    const enc = await encoder.encode(bytes, { localize: false, mirror: 'only' });
    const fd = enc[0]!.vector.length;
    const pd = enc[0]!.probs.length;
    features ??= new Float32Array(ids.length * fd);
    probs ??= new Float32Array(ids.length * pd);
    enc.forEach((e, i) => {
      features!.set(e.vector, (start + i) * fd);
      probs!.set(e.probs, (start + i) * pd);
    });
    opts.onProgress?.(Math.min(ids.length, start + batchSize), ids.length);
  }
  return { count: ids.length, features: features ?? new Float32Array(0), probs: probs ?? new Float32Array(0) };
}
