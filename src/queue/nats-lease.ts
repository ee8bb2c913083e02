import { createHash, randomBytes } from 'node:crypto';
import os from 'node:os';
import type { KV, NatsConnection } from 'nats';
import { VisorError } from '../errors.js';
import type { Lease, LeaseService } from '../store/lease.js';

/** KV entries outlive their leases by far: a lease's own expiry is in its value. */
const BUCKET = 'visor_leases';
const BUCKET_MAX_AGE_MS = 60 * 60_000;

interface Holder {
  owner: string;
  expiresAt: number;
}

function decode(value: Uint8Array): Holder | null {
  try {
    const h = JSON.parse(new TextDecoder().decode(value)) as Holder;
    return typeof h.owner === 'string' && typeof h.expiresAt === 'number' ? h : null;
  } catch {
    return null;
  }
}

/**
 * Leases in a NATS JetStream key-value bucket, one key per lease name within a scope (the
 * collection). Taking one is a create-if-absent, or a compare-and-set over an expired holder,
 * so two nodes never both hold it; a holder that dies simply stops renewing. Expiry compares
 * wall clocks across machines: keep them in sync (NTP), and ttl well above their skew.
 */
export class NatsLeases implements LeaseService {
  private readonly owner = `${os.hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`;
  private readonly prefix: string;

  private constructor(
    private readonly kv: KV,
    private readonly nc: NatsConnection | null,
    scope: string,
  ) {
    // Keys allow [-/_=.a-zA-Z0-9]: a collection's URI becomes a digest.
    this.prefix = createHash('sha256').update(scope).digest('hex').slice(0, 24);
  }

  /** Leases for the collection `scope` (its URI) over a connection; `ownConnection` closes it with the service. */
  static async open(nc: NatsConnection, scope: string, ownConnection = false): Promise<NatsLeases> {
    const kv = await nc.jetstream().views.kv(BUCKET, { history: 1, ttl: BUCKET_MAX_AGE_MS });
    return new NatsLeases(kv, ownConnection ? nc : null, scope);
  }

  private key(name: string): string {
    return `${this.prefix}.${name.replace(/[^-_=a-zA-Z0-9]/g, '_')}`;
  }

  private value(ttlMs: number): Uint8Array {
    return new TextEncoder().encode(JSON.stringify({ owner: this.owner, expiresAt: Date.now() + ttlMs } satisfies Holder));
  }

  async tryAcquire(name: string, ttlMs: number): Promise<Lease | null> {
    const key = this.key(name);
    let revision: number;
    try {
      revision = await this.kv.create(key, this.value(ttlMs));
    } catch {
      const entry = await this.kv.get(key);
      if (!entry) return this.tryAcquire(name, ttlMs); // released meanwhile
      const held = entry.operation === 'PUT' ? decode(entry.value) : null;
      if (held && held.expiresAt > Date.now()) return null;
      try {
        revision = await this.kv.update(key, this.value(ttlMs), entry.revision);
      } catch {
        return null; // another node took it over first
      }
    }
    return this.lease(name, key, revision, ttlMs);
  }

  async acquire(name: string, ttlMs: number, timeoutMs: number): Promise<Lease> {
    const deadline = Date.now() + timeoutMs;
    for (let wait = 100; ; wait = Math.min(wait * 2, 2_000)) {
      const lease = await this.tryAcquire(name, ttlMs);
      if (lease) return lease;
      if (Date.now() + wait > deadline) {
        const entry = await this.kv.get(this.key(name));
        const holder = entry?.operation === 'PUT' ? decode(entry.value) : null;
        throw new VisorError(
          'INDEX_LOCKED',
          `'${name}' is being rewritten by ${holder?.owner ?? 'another node'} (lease held until ${holder ? new Date(holder.expiresAt).toISOString() : 'soon'}); try again later`,
        );
      }
      await new Promise((r) => setTimeout(r, wait));
    }
  }

  private lease(name: string, key: string, revision: number, ttlMs: number): Lease {
    let rev = revision;
    let held = true;
    return {
      name,
      renew: async () => {
        if (!held) return false;
        try {
          rev = await this.kv.update(key, this.value(ttlMs), rev);
          return true;
        } catch {
          held = false;
          return false;
        }
      },
      release: async () => {
        if (!held) return;
        held = false;
        // Only our own revision: a lease lost to another holder is not deleted from under it.
        await this.kv.delete(key, { previousSeq: rev }).catch(() => undefined);
      },
    };
  }

  async close(): Promise<void> {
    if (this.nc) await this.nc.drain().catch(() => undefined);
  }
}
