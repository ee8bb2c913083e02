import type { JointModel } from '../models/joint-model.js';
import type { VectorStore } from '../store/port.js';

/** Stored image-model outputs of every item, row i belonging to ids[i]. */
export interface StoredImageOutputs {
  ids: readonly string[];
  count: number;
  features: Float32Array;
  probs: Float32Array;
}

const CHUNK = 1000;

/**
 * Reads what the index keeps for each image (features, class probabilities) through the
 * store's public interface only, so the joint model never depends on how a store lays them out.
 */
export async function storedImageOutputs(store: VectorStore, numClasses: number): Promise<StoredImageOutputs> {
  const { ids, matrix } = await store.vectors();
  const probs = new Float32Array(ids.length * numClasses);
  if (numClasses > 0) {
    for (let start = 0; start < ids.length; start += CHUNK) {
      const part = ids.slice(start, start + CHUNK);
      const items = await store.getItemsWithVectors(part);
      const byId = new Map(items.map((it) => [it.id, it.probs]));
      part.forEach((id, i) => {
        const p = byId.get(id);
        if (p) probs.set(p.subarray(0, numClasses), (start + i) * numClasses);
      });
    }
  }
  return { ids, count: ids.length, features: matrix, probs };
}

/**
 * Every stored image projected into a joint model's space: the matrix text queries are ranked
 * against, and each image's hubness bias to add to its cosine (zeros for a model without a
 * caption bank). Computed on demand; a named embedding space kept in the index can replace this.
 */
export async function jointImageMatrix(store: VectorStore, model: JointModel): Promise<{ ids: readonly string[]; matrix: Float32Array; bias: Float32Array }> {
  const out = await storedImageOutputs(store, model.numClasses);
  const matrix = model.encodeImages(out.features, model.usesProbs ? out.probs : undefined, out.count);
  return { ids: out.ids, matrix, bias: model.imageBias(matrix, out.count) };
}
