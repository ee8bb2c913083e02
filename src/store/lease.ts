/**
 * Leases: work that rewrites shared data (compaction, index builds, deletes, old-version
 * cleanup, path edits) runs while holding one, so two nodes never rewrite the same shard at
 * once. A lease expires by itself when its holder dies (no lock file to clear by hand).
 */
export interface Lease {
  readonly name: string;
  /** Extends the lease; false when it was lost (expired and taken by another holder). */
  renew(): Promise<boolean>;
  /** Gives it up now. */
  release(): Promise<void>;
}

export interface LeaseService {
  /** Takes the named lease for ttlMs (renewed by the caller for longer work), or null when another holder has it. */
  tryAcquire(name: string, ttlMs: number): Promise<Lease | null>;
  /** Waits (up to timeoutMs) for the lease; throws INDEX_LOCKED naming the holder when it stays taken. */
  acquire(name: string, ttlMs: number, timeoutMs: number): Promise<Lease>;
  close(): Promise<void>;
}
