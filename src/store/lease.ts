import { VisorError } from '../errors.js';

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

/** Runs `work` holding the lease, renewing it at a third of its ttl; fails if the lease is lost midway. */
export async function withLease<T>(leases: LeaseService, name: string, work: () => Promise<T>, opts: { ttlMs?: number; timeoutMs?: number } = {}): Promise<T> {
  const ttlMs = opts.ttlMs ?? 30_000;
  const lease = await leases.acquire(name, ttlMs, opts.timeoutMs ?? 120_000);
  let lost = false;
  const timer = setInterval(() => {
    void lease.renew().then((ok) => (lost ||= !ok));
  }, ttlMs / 3);
  try {
    const result = await work();
    if (lost) throw new VisorError('INDEX_LOCKED', `lost the lease '${name}' while working (the node stalled past its ttl); run the command again`);
    return result;
  } finally {
    clearInterval(timer);
    await lease.release();
  }
}
