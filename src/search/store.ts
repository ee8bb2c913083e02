import type { VectorStore } from '../store/port.js';

/**
 * What the query pipeline reads from the store: a top-k search per embedding space (hits merge
 * across shards by score), dense scores over one snapshot of the rows, keyword (BM25) hits and
 * filter matches, and the stored records of a page. Nothing here names the storage engine.
 */
export type SearchStore = Pick<
  VectorStore,
  | 'manifest'
  | 'count'
  | 'getItems'
  | 'getItemsWithVectors'
  | 'search'
  | 'searchSpace'
  | 'vectors'
  | 'probabilities'
  | 'scoreAll'
  | 'scoreSpace'
  | 'keywordRows'
  | 'keywordSearch'
  | 'idsWhere'
>;
