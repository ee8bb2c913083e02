import type { MetaRecord } from '../store/types.js';

/** A file of a distributed indexing job, as the coordinator saw it. */
export interface BatchFile {
  path: string;
  size: number;
  mtimeMs: number;
  /** Catalogue fields, when a catalogue listed the file. */
  meta?: MetaRecord;
}

/** One unit of work on the queue: files to read, hash, embed and store. */
export interface BatchMessage {
  job: string;
  /** Unique across jobs (`<job>.<n>`): claims and results are keyed by it. */
  batch: string;
  /** The collection the batch belongs to (`--db`), checked by the worker against its own. */
  db: string;
  maxPixels: number;
  maxFileBytes: number;
  files: BatchFile[];
}

/**
 * What a worker did with one file: `embedded` stored as a new item (with the other paths of
 * the batch holding the same bytes, `joined`), `known` content already stored (the coordinator
 * attaches the path), `failed` not stored.
 */
export type FileResult = BatchFile & ({ outcome: 'embedded' | 'joined' | 'known'; id: string } | { outcome: 'failed'; reason: string });

/** A finished batch (a batch may finish twice: the coordinator keeps the first). */
export interface BatchResult {
  job: string;
  batch: string;
  worker: string;
  /** Seconds the worker spent on the batch. */
  seconds: number;
  /** Where those seconds went: reading and hashing, looking up stored content, claiming, embedding, committing. */
  phases?: { read: number; lookup: number; claim: number; embed: number; commit: number };
  files: FileResult[];
  /** Set when the batch as a whole could not be done (its files are then all `failed`). */
  error?: string;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export function encodeMessage(m: BatchMessage | BatchResult): Uint8Array {
  return encoder.encode(JSON.stringify(m));
}

export function decodeMessage<T extends BatchMessage | BatchResult>(data: Uint8Array): T {
  return JSON.parse(decoder.decode(data)) as T;
}
