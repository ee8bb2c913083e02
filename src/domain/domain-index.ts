import type { VectorStore } from '../store/port.js';
import type { SideTables } from './side-tables.js';

/**
 * The domain stages' data in memory, row-aligned with the store's vector matrix (row i is
 * item ids[i]), so one exact-kernel call can rank any of the matrices with a per-row bias.
 */
export interface DomainIndex {
  ids: readonly string[];
  rowOf: ReadonlyMap<string, number>;
  dim: number;
  /** Whole-image features (the store's own matrix, not a copy). */
  wholeMatrix: Float32Array;
  /** Object features where localised, the whole image's elsewhere. */
  objectMatrix: Float32Array;
  /** 1 where the row has a silhouette of a found object. */
  hasMask: Uint8Array;
  masks: Uint8Array;
  maskBytes: number;
  localized: number;
  /** Category names in use, and each row's index into them (-1: none). */
  categories: string[];
  categoryOf: Int32Array;
}

export async function buildDomainIndex(store: Pick<VectorStore, 'vectors' | 'dimension'>, side: SideTables): Promise<DomainIndex> {
  const { ids, matrix } = await store.vectors();
  const n = ids.length;
  const dim = store.dimension;
  const rowOf = new Map(ids.map((id, i) => [id, i]));
  const objects = await side.readObjects();
  const objectMatrix = Float32Array.from(matrix);
  const hasMask = new Uint8Array(n);
  const maskBytes = objects.maskBytes;
  const masks = new Uint8Array(n * maskBytes);
  let localized = 0;
  objects.ids.forEach((id, i) => {
    const r = rowOf.get(id);
    if (r === undefined) return; // removed since
    localized++;
    objectMatrix.set(objects.vectors.subarray(i * dim, (i + 1) * dim), r * dim);
    if (objects.found[i]) {
      hasMask[r] = 1;
      masks.set(objects.masks.subarray(i * maskBytes, (i + 1) * maskBytes), r * maskBytes);
    }
  });
  const cats = await side.readCategories();
  const categories = [...new Set([...cats.values()].map((c) => c.category))].sort();
  const catIndex = new Map(categories.map((c, i) => [c, i]));
  const categoryOf = new Int32Array(n).fill(-1);
  for (const [id, c] of cats) {
    const r = rowOf.get(id);
    if (r !== undefined) categoryOf[r] = catIndex.get(c.category)!;
  }
  return { ids, rowOf, dim, wholeMatrix: matrix, objectMatrix, hasMask, masks, maskBytes, localized, categories, categoryOf };
}
