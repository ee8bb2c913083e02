/**
 * The few object-store operations Visor itself needs beside LanceDB's own (the collection
 * manifest, content-id claims, store checks). Keys are full keys within the bucket.
 */
export interface ObjectStore {
  /** The object's bytes, or null when there is none. */
  get(key: string): Promise<Buffer | null>;
  /** Writes (or overwrites) an object. */
  put(key: string, body: Buffer | string): Promise<void>;
  /**
   * Writes only when no object has the key (`If-None-Match: *`): true when this call created
   * it, false when one existed. Safe between processes only on stores that honour the header
   * (see `checkStore`).
   */
  putIfAbsent(key: string, body: Buffer | string): Promise<boolean>;
  /** Removes an object (no error when absent). */
  delete(key: string): Promise<void>;
  /** Keys (and sizes) under a prefix, every page. */
  list(prefix: string): Promise<Array<{ key: string; size: number }>>;
  /** Whether the bucket exists and these credentials may read it (throws a VisorError naming what to fix otherwise). */
  checkBucket(): Promise<void>;
  close(): void;
}
