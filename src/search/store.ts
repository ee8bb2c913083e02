import type { ItemWithVectors, StoredItem, VectorHit, VectorSearchOptions } from '../store/types.js';

/**
 * What the query pipeline reads from the store: a top-k search per embedding space (hits merge
 * across shards by score), dense scores over one snapshot of the rows, keyword (BM25) hits and
 * filter matches, and the stored records of a page. Nothing here names the storage engine.
 */
export interface SearchStore {
  readonly manifest: { readonly numClasses: number };
  count(): Promise<number>;
  getItems(ids: readonly string[]): Promise<StoredItem[]>;
  getItemsWithVectors(ids: readonly string[]): Promise<ItemWithVectors[]>;
  /** Top-k of the main image features (approximate past the store's threshold unless `exact`). */
  search(query: Float32Array, opts: VectorSearchOptions): Promise<VectorHit[]>;
  /** Top-k in a further embedding space. */
  searchSpace(name: string, query: Float32Array, opts: VectorSearchOptions): Promise<VectorHit[]>;
  /** The snapshot every dense score array follows: row i belongs to ids[i]. */
  vectors(): Promise<{ ids: readonly string[]; matrix: Float32Array }>;
  probabilities(): Promise<{ ids: readonly string[]; matrix: Float32Array; classes: number }>;
  /** Every row's dot product with each query (features or class probabilities). */
  scoreAll(space: 'vector' | 'probs', queries: Float32Array, count: number): Promise<{ ids: readonly string[]; scores: Float32Array }>;
  /** Every row's cosine with a query in a further space (NaN where an item has no vector there). */
  scoreSpace(name: string, query: Float32Array): Promise<{ ids: readonly string[]; scores: Float32Array }>;
  /** BM25 hits as rows of `ids`, or null when `ids` is not the store's current snapshot. */
  keywordRows(text: string, k: number, ids: readonly string[]): Promise<{ hits: number; rows: Int32Array; scores: Float32Array } | null>;
  keywordSearch(text: string, opts: { k: number; where?: string }): Promise<VectorHit[]>;
  /** Ids of the items a filter admits. */
  idsWhere(where: string): Promise<Set<string>>;
}
