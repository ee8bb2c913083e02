/**
 * Records the store hands over and takes in: plain data, no LanceDB or Arrow types. The
 * interface itself (the port) is in port.ts.
 */

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
  /** Class probabilities of the image model (empty when it has no classifier: numClasses 0). */
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

/** Every item's score for some queries, as of one snapshot: query q's score of ids[i] is scores[q * ids.length + i]. */
export interface ScoredRows {
  ids: readonly string[];
  scores: Float32Array;
}

/** Keyword scores as rows of a vectors() snapshot's ids: hit i is ids[rows[i]] with scores[i]. */
export interface KeywordRows {
  /** Hits found, including those of rows the snapshot does not hold (left out of rows). */
  hits: number;
  rows: Int32Array;
  scores: Float32Array;
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

/**
 * A further embedding space of an index (e.g. CLIP image embeddings beside MobileNetV2's
 * features): what made it and its size. Kept in the manifest under `spaces`.
 */
export interface SpaceInfo {
  /** Model id: a built-in or added model, or for a folder its name. */
  model: string;
  /** For a model used straight from a folder: where it is (its text tower is loaded from there). */
  folder?: string;
  dimension: number;
  createdAt: string;
}

/**
 * What an index was built with (for LanceDB, `visor.json` beside the tables). Checked on open
 * so an index made by another model or a newer Visor is refused with a reason, not misread.
 */
export interface Manifest {
  format: 'visor-index';
  /** Bumped when the table layout changes; older indexes are migrated on open. */
  schemaVersion: number;
  imageModel: string;
  dimension: number;
  /** Class probabilities stored per item; 0 for an image model without a classifier (CLIP). */
  numClasses: number;
  createdAt: string;
  /** Free-form settings later features keep with the collection. */
  settings: Record<string, unknown>;
  /** Further embedding spaces (e.g. CLIP), by name. */
  spaces?: Record<string, SpaceInfo>;
  /** A collection in object storage: how many shards its items are spread over (fixed when it is created). */
  shards?: number;
}

// --- Side tables: per-item data of optional features, beside the items ---

/** Column types a side table holds: text, a float, a flag, bytes, or a fixed-length float vector. */
export type SideColumnType = 'string' | 'float32' | 'bool' | 'bytes' | { vector: number };
/** A side table's columns besides its `id` key, by name. */
export type SideSchema = Record<string, SideColumnType>;

type SideValue<T extends SideColumnType> = T extends 'string'
  ? string
  : T extends 'float32'
    ? number
    : T extends 'bool'
      ? boolean
      : T extends 'bytes'
        ? Uint8Array
        : Float32Array;

type SideArray<T extends SideColumnType> = T extends 'string'
  ? string[]
  : T extends 'float32'
    ? Float32Array
    : T extends 'bool'
      ? Uint8Array
      : T extends 'bytes'
        ? Uint8Array[]
        : Float32Array;

/** One row of a side table: its item id and a value per column. */
export type SideRow<S extends SideSchema> = { id: string } & { [K in keyof S]: SideValue<S[K]> };

/**
 * Some columns of every row, column by column (no object per row): ids[i] is row i; a string
 * column is an array, a float or flag column a typed array (flags 0/1), a bytes column an array
 * of byte arrays, and a vector column one n × dimension Float32Array.
 */
export type SideColumns<S extends SideSchema, K extends keyof S> = { ids: string[] } & { [P in K]: SideArray<S[P]> };
