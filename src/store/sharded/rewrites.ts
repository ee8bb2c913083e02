import { VisorError } from '../../errors.js';
import { withLease, type LeaseService } from '../lease.js';

/** How long one rewrite may hold a shard before renewing (withLease renews at a third of it). */
const TTL_MS = 60_000;
/** How long a rewrite waits for another node's rewrite of the same shard. */
const WAIT_MS = 10 * 60_000;

/**
 * Who may rewrite a shared collection's data (compaction, deletes, edits of stored rows, schema
 * and manifest changes): whoever holds that shard's (or the manifest's) lease. Appends need no
 * lease: LanceDB commits them with the store's conditional PUT, and they never rewrite a row.
 */
export class Rewrites {
  constructor(
    private readonly leases: LeaseService | undefined,
    private readonly uri: string,
  ) {}

  get available(): boolean {
    return this.leases !== undefined;
  }

  /** Runs `work` holding the named lease (waiting for another holder); fails clearly when no lease service was given. */
  async run<T>(name: string, doing: string, work: () => Promise<T>): Promise<T> {
    if (!this.leases) throw needsQueue(this.uri, doing);
    return withLease(this.leases, name, work, { ttlMs: TTL_MS, timeoutMs: WAIT_MS });
  }

  /** Runs `work` when the lease is free now; false when another node holds it (it is doing that work). */
  async tryRun(name: string, work: () => Promise<void>): Promise<boolean> {
    if (!this.leases) throw needsQueue(this.uri, 'optimizing');
    const probe = await this.leases.tryAcquire(name, TTL_MS);
    if (!probe) return false;
    await probe.release();
    await withLease(this.leases, name, work, { ttlMs: TTL_MS, timeoutMs: 5_000 });
    return true;
  }

  close(): Promise<void> {
    return this.leases?.close() ?? Promise.resolve();
  }
}

export function needsQueue(uri: string, doing: string): VisorError {
  return new VisorError(
    'QUEUE_UNAVAILABLE',
    `${doing} rewrites shared data of ${uri}, which needs a queue to coordinate the nodes: pass --queue nats://host:4222 (or set VISOR_QUEUE)`,
  );
}
