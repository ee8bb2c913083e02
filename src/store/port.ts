/**
 * The VectorStore port: everything Visor outside src/store asks of storage, in plain data
 * (no LanceDB or Arrow types). Implementations: lance/ (embedded LanceDB, the product's) and
 * memory/ (plain TypeScript, for fast tests). Open one with openStore() from ./index.ts.
 *
 * Built from small roles, so a consumer can ask for only what it uses (e.g. `Pick<VectorStore,
 * 'vectors' | 'getItems'>`, or `ItemRole & VectorRole`).
 *
 * Shaped for shards (a later store that splits items over several stores, e.g. in object
 * storage): a top-k search answers (id, score) hits best first, which a sharded store merges
 * across shards by score and cuts to k; dense scoring (vectors, probabilities, scoreAll,
 * scoreSpace) answers `{ids, scores}` for one snapshot of the items, which shards concatenate
 * (their ids in shard order). Row numbers (searchMany's rows, keywordRows) index into the
 * `ids` of the same answer or snapshot, never into a table, so they too survive concatenation.
 * Filters are SQL text over item columns: each shard applies the same text to its own rows.
 */

import type {
  BatchHits,
  FileState,
  ItemWithVectors,
  KeywordRows,
  Manifest,
  MetaColumnType,
  ScoredRows,
  SideColumns,
  SideRow,
  SideSchema,
  SpaceInfo,
  StoredItem,
  StoreStats,
  VectorHit,
  VectorSearchOptions,
} from './types.js';

export type * from './types.js';

/** Items: one record per unique image content, with its files, catalogue fields and vectors. */
export interface ItemRole {
  /** Number of items stored. */
  count(): Promise<number>;
  /** Changes with every write: it keys caches of search answers (another process's writes show after refresh or ~1 s). */
  version(): Promise<number>;
  /** Every (path, item id, size, mtime) stored, without reading any vectors: what the indexer compares against. */
  fileStates(): Promise<FileState[]>;
  /** The items of these ids, in the order asked (unknown ids left out); copies the caller may change. */
  getItems(ids: readonly string[]): Promise<StoredItem[]>;
  /** The same with their vector and class probabilities (probs empty when numClasses is 0). */
  getItemsWithVectors(ids: readonly string[]): Promise<ItemWithVectors[]>;
  /** Inserts or replaces whole items, atomically: after a crash either all are stored or none. */
  upsert(items: readonly ItemWithVectors[]): Promise<void>;
  /** Appends items the caller knows are new (no lookup of existing ids), atomically. */
  insert(items: readonly ItemWithVectors[]): Promise<void>;
  /** Removes items (and their vectors in every embedding space). */
  deleteItems(ids: readonly string[]): Promise<void>;
  /** The typed catalogue columns filters can compare, by name. */
  metaColumns(): Promise<Record<string, MetaColumnType>>;
  /** Adds catalogue columns not yet present (existing items get null); existing ones are kept as they are. */
  ensureMetaColumns(columns: Record<string, MetaColumnType>): Promise<void>;
}

/** The main image features (and class probabilities): nearest items, dense scores, filters. */
export interface VectorRole {
  /** Nearest items to a query by cosine, best first (ties: earlier row first): exact, or approximate once an ANN index exists (unless opts.exact). */
  search(query: Float32Array, opts: VectorSearchOptions): Promise<VectorHit[]>;
  /** Many queries (count × dimension) at once, exact: what evaluations and batch jobs use. */
  searchMany(queries: Float32Array, count: number, opts: VectorSearchOptions): Promise<BatchHits>;
  /** Every stored vector, row i belonging to ids[i] (one snapshot; the same arrays until the next write). */
  vectors(): Promise<{ ids: readonly string[]; matrix: Float32Array }>;
  /** Class probabilities of every item, rows aligned with vectors().ids; classes 0 (empty matrix) when the model has none. */
  probabilities(): Promise<{ ids: readonly string[]; matrix: Float32Array; classes: number }>;
  /** Every item's score for each query (count × items) against the vectors or the probabilities (an error where numClasses is 0). */
  scoreAll(space: 'vector' | 'probs', queries: Float32Array, count: number): Promise<ScoredRows>;
  /** Ids of the items an SQL filter admits (FILTER_INVALID, in the user's terms, when it is not a valid filter); a set shared with other callers: read it, never change it. */
  idsWhere(where: string): Promise<Set<string>>;
  /** The same as idsWhere (kept under both names). */
  matchingIds(where: string): Promise<Set<string>>;
}

/** Keyword search over each item's search_text (file name words and catalogue text; see search-text.ts). */
export interface KeywordRole {
  /** BM25 hits for the words (English stemming, stop words and accents folded), best first; scores comparable within one query only. */
  keywordSearch(text: string, opts: { k: number; where?: string }): Promise<VectorHit[]>;
  /** keywordSearch's top k as rows of `ids`, which must be the current vectors().ids (null otherwise: map ids instead). */
  keywordRows(text: string, k: number, ids: readonly string[]): Promise<KeywordRows | null>;
}

/** Further embedding spaces (e.g. CLIP beside the image features): vectors keyed by item id, deleted with their items. */
export interface SpaceRole {
  /** The spaces this index holds besides its image features. */
  spaces(): Array<SpaceInfo & { name: string }>;
  /** Creates a space (recorded in the manifest), or checks that the existing one has this dimension. */
  ensureSpace(name: string, info: Omit<SpaceInfo, 'createdAt'>): Promise<void>;
  /** Adds vectors to a space: row i of `matrix` belongs to ids[i] (ids not yet in the space). */
  addSpaceVectors(name: string, ids: readonly string[], matrix: Float32Array): Promise<void>;
  /** Ids of the items that have a vector in the space. */
  spaceIds(name: string): Promise<Set<string>>;
  /** Every item's cosine to `query` in a space, aligned with vectors().ids; NaN where an item has none. */
  scoreSpace(name: string, query: Float32Array): Promise<ScoredRows>;
  /** Nearest items in a space, best first: exact, or approximate once the space has an ANN index (and no filter). */
  searchSpace(name: string, query: Float32Array, opts: VectorSearchOptions): Promise<VectorHit[]>;
}

/** One side table: rows keyed by item id, of the columns its schema names. */
export interface SideTable<S extends SideSchema> {
  /** Changes with every write to this table: keys caches of what was read. */
  version(): Promise<number>;
  /** Inserts or replaces rows by id. */
  put(rows: ReadonlyArray<SideRow<S>>): Promise<void>;
  /** These columns of every row (column by column), in one order shared by all columns. */
  read<K extends keyof S & string>(columns: readonly K[]): Promise<SideColumns<S, K>>;
  /** Removes the rows of these ids (rows of items since removed are not removed by the store). */
  delete(ids: readonly string[]): Promise<void>;
  /**
   * Makes deletions final on disk: rows deleted so far are rewritten away and older versions
   * of the table dropped (a store that keeps history otherwise still holds them). For data a
   * user asked to be forgotten; the caller holds the collection's write lock.
   */
  purge?(): Promise<void>;
  /** Lets go of the table (the store's close() does too). */
  close(): void;
}

/** Per-item data of optional features, kept beside the items so indexes made without them stay as they are. */
export interface SideTableRole {
  /** Whether a side table exists (without creating it). */
  hasSideTable(name: string): Promise<boolean>;
  /** A side table, created with `schema` when missing (an existing one is opened as it is). */
  sideTable<S extends SideSchema>(name: string, schema: S): Promise<SideTable<S>>;
}

/** The index as a whole: what it was built with, its settings, upkeep. */
export interface IndexRole {
  /** What the index was built with: image model, dimension, numClasses, settings, spaces. */
  readonly manifest: Readonly<Manifest>;
  /** Dimension of the main image features (manifest.dimension). */
  readonly dimension: number;
  /** Persists collection-level settings (merged into manifest.settings). */
  saveSettings(settings: Record<string, unknown>): void;
  /** Reads the newest version now (another thread's or process's writes), not after the read-consistency interval. */
  refresh(): Promise<void>;
  /** Compacts storage, rebuilds the keyword index, builds an ANN index when the collection is large. */
  optimize(): Promise<void>;
  /** Items, files, ANN index, catalogue columns and version. */
  stats(): Promise<StoreStats>;
  /** Releases everything held (caches, tables, kernels). */
  close(): Promise<void>;
}

/** Everything a collection needs from storage. */
export interface VectorStore extends ItemRole, VectorRole, KeywordRole, SpaceRole, SideTableRole, IndexRole {}
