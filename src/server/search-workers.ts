import { Worker } from 'node:worker_threads';
import { VisorError, type VisorErrorCode } from '../errors.js';
import type { Query } from '../search/query.js';

export interface ToSearchWorker {
  id: number;
  /** Words, item ids, filters: searches with uploaded query images stay on the main thread. */
  query: Query;
  /** The index version the main thread sees: the worker reads at least this one. */
  version: number;
}

export type FromSearchWorker = { id: number; ok: true; json?: string } | { id: number; ok: false; code?: VisorErrorCode; message: string };

/** A search answer already serialised as JSON (by a worker): the HTTP reply's body as it is. */
export class SerializedResponse {
  constructor(readonly json: string) {}
}

/** Under tsx (tests, benchmarks) the worker is TypeScript: register tsx's loader inside it first. */
function spawn(db: string): Worker {
  if (import.meta.url.endsWith('.ts')) {
    const ts = new URL('./search-worker.ts', import.meta.url).href;
    const boot = `import('tsx/esm/api').then(({ register }) => { register(); return import(${JSON.stringify(ts)}); })`;
    return new Worker(boot, { eval: true, workerData: { db } });
  }
  return new Worker(new URL('./search-worker.js', import.meta.url), { workerData: { db } });
}

interface Slot {
  worker: Worker;
  inFlight: number;
  exited: Promise<void>;
}

/**
 * JSON searches on worker threads, each with its own Collection on the same index (opened with
 * default settings, as `visor serve` opens its own): one search is JavaScript on one thread, so
 * a server answering searches side by side uses one core without them. Each worker holds its own
 * copy of the index's vectors and probabilities in memory. Writes stay on the main thread; every
 * search carries the index version the main thread sees, and a worker behind it reloads first.
 */
export class SearchWorkers {
  private readonly pending = new Map<number, { resolve: (r: SerializedResponse) => void; reject: (e: unknown) => void }>();
  private nextId = 0;
  private turn = 0;
  private failure: Error | null = null;

  private constructor(private readonly slots: Slot[]) {
    for (const slot of slots) {
      slot.worker.on('message', (m: FromSearchWorker) => {
        const p = this.pending.get(m.id);
        if (!p) return;
        this.pending.delete(m.id);
        slot.inFlight--;
        if (m.ok) p.resolve(new SerializedResponse(m.json!));
        else p.reject(m.code ? new VisorError(m.code, m.message) : new Error(`search worker: ${m.message}`));
      });
      slot.worker.on('error', (e) => this.fail(e));
      slot.worker.on('exit', (code) => code !== 0 && this.fail(new Error(`search worker exited with code ${code}`)));
    }
  }

  static async start(db: string, count: number): Promise<SearchWorkers> {
    const workers = Array.from({ length: count }, () => spawn(db));
    try {
      await Promise.all(
        workers.map(
          (w) =>
            new Promise<void>((resolve, reject) => {
              w.once('message', (m: FromSearchWorker) => (m.ok ? resolve() : reject(new Error(`search worker: ${m.message}`))));
              w.once('error', reject);
            }),
        ),
      );
    } catch (e) {
      await Promise.all(workers.map((w) => w.terminate()));
      throw e;
    }
    return new SearchWorkers(workers.map((worker) => ({ worker, inFlight: 0, exited: new Promise<void>((resolve) => worker.once('exit', () => resolve())) })));
  }

  /** Whether a worker has failed: searches then run on the main thread (see the search route). */
  get failed(): boolean {
    return this.failure !== null;
  }

  private fail(e: Error): void {
    this.failure ??= e;
    for (const p of this.pending.values()) p.reject(e);
    this.pending.clear();
  }

  /** Runs the search on the least busy worker (ties in turn); the answer comes as JSON text. */
  search(query: Query, version: number): Promise<SerializedResponse> {
    if (this.failure) return Promise.reject(this.failure);
    let best: Slot | undefined;
    for (let i = 0; i < this.slots.length; i++) {
      const s = this.slots[(this.turn + i) % this.slots.length]!;
      if (!best || s.inFlight < best.inFlight) best = s;
    }
    this.turn = (this.turn + 1) % this.slots.length;
    const id = this.nextId++;
    best!.inFlight++;
    return new Promise<SerializedResponse>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      best!.worker.postMessage({ id, query, version } satisfies ToSearchWorker);
    });
  }

  /** Lets each worker close its collection and end (terminated after 10 s if it has not). */
  async close(): Promise<void> {
    await Promise.all(
      this.slots.map(async ({ worker, exited }) => {
        worker.postMessage('close');
        const timer = setTimeout(() => void worker.terminate(), 10_000);
        await exited;
        clearTimeout(timer);
      }),
    );
  }
}
