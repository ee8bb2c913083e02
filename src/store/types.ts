/**
 * What the rest of Visor needs from storage. One implementation today (LanceDB, embedded);
 * a distributed engine would implement the same interface.
 */

import type { SpaceInfo } from './space-table.js';

/** Catalogue values kept with an item: typed columns, so filters can compare them. */
export type MetaValue = string | number | null;
export type MetaRecord = Record<string, MetaValue>;
export type MetaColumnType = 'string' | 'number';

/** One stored image: unique content, with every path where that content was found. */
export interface StoredItem {
  /** Content hash (hex). */
  id: string;
  /** The first path the content was found at: what results show. */
  path: string;
  paths: string[];
  /** Per path, parallel to `paths`: size and modification time when indexed. */
  fileSizes: number[];
  fileMtimes: number[];
  width: number;
  height: number;
  format: string;
  indexedAt: number;
  /** Catalogue fields of the item's first path. */
  meta: MetaRecord;
}

export interface ItemVectors {
  /** L2-normalised image features. */
  vector: Float32Array;
  /** Class probabilities of the image model. */
  probs: Float32Array;
}

export type ItemWithVectors = StoredItem & ItemVectors;

/** What the indexer needs to decide what changed, without reading any vectors. */
export interface FileState {
  path: string;
  id: string;
  size: number;
  mtimeMs: number;
}

export interface VectorHit {
  id: string;
  /** Cosine similarity, 1 = identical direction. */
  score: number;
}

/** Results of many queries at once, in flat arrays: row j of query q is `ids[rows[q * k + j]]`. */
export interface BatchHits {
  count: number;
  /** Results per query (fewer real ones where a filter matched less: their score is -Infinity). */
  k: number;
  rows: Int32Array;
  scores: Float32Array;
  ids: readonly string[];
}

export interface VectorSearchOptions {
  k: number;
  /** SQL filter over item columns, e.g. "category = 'bottle' AND price < 20". */
  where?: string;
  /** Force exhaustive search even when an ANN index exists. */
  exact?: boolean;
  /** Items never returned (e.g. the query's own id). */
  exclude?: ReadonlySet<string>;
}

export interface StoreStats {
  items: number;
  files: number;
  annIndex: { type: string; indexedRows: number; unindexedRows: number } | null;
  metaColumns: Record<string, MetaColumnType>;
  version: number;
}

export interface VectorStore {
  readonly dimension: number;
  count(): Promise<number>;
  fileStates(): Promise<FileState[]>;
  getItems(ids: readonly string[]): Promise<StoredItem[]>;
  getItemsWithVectors(ids: readonly string[]): Promise<ItemWithVectors[]>;
  /** Inserts or replaces whole items, atomically: after a crash either all are stored or none. */
  upsert(items: readonly ItemWithVectors[]): Promise<void>;
  /** Appends items the caller knows are new (no lookup of existing ids), atomically. */
  insert(items: readonly ItemWithVectors[]): Promise<void>;
  deleteItems(ids: readonly string[]): Promise<void>;
  ensureMetaColumns(columns: Record<string, MetaColumnType>): Promise<void>;
  metaColumns(): Promise<Record<string, MetaColumnType>>;
  search(query: Float32Array, opts: VectorSearchOptions): Promise<VectorHit[]>;
  /** Many queries at once, exact: what evaluations and batch jobs use. */
  searchMany(queries: Float32Array, count: number, opts: VectorSearchOptions): Promise<BatchHits>;
  /** Every stored vector, row i belonging to ids[i] (evaluations, training, exports). */
  vectors(): Promise<{ ids: readonly string[]; matrix: Float32Array }>;
  /** Compacts storage and builds or refreshes the ANN index when the collection is large. */
  optimize(): Promise<void>;
  stats(): Promise<StoreStats>;
  close(): Promise<void>;
  /**
   * Further embedding spaces (e.g. CLIP beside the image features): vectors keyed by item id,
   * one table per space, deleted with their items.
   */
  spaces(): Array<SpaceInfo & { name: string }>;
  ensureSpace(name: string, info: Omit<SpaceInfo, 'createdAt'>): Promise<void>;
  addSpaceVectors(name: string, ids: readonly string[], matrix: Float32Array): Promise<void>;
  spaceIds(name: string): Promise<Set<string>>;
  searchSpace(name: string, query: Float32Array, opts: VectorSearchOptions): Promise<VectorHit[]>;
}
