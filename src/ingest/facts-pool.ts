import type { VisorPaths } from '../config.js';
import os from 'node:os';
import { Worker } from 'node:worker_threads';
import type { FactStage } from '../core/facts.js';
import { whenReady } from './worker-ready.js';
import type { FactsJob, FactsOutcome } from '../facts/compute.js';
import type { FactsWorkerConfig, FromFactsWorker, ToFactsWorker } from './facts-protocol.js';

/** What the facts pass needs of whatever computes facts: worker threads (FactsPool), or readers on this thread in tests. */
export interface FactsRunner {
  /** Reader id per loaded stage. */
  readonly readers: Partial<Record<FactStage, string>>;
  compute(job: FactsJob): Promise<FactsOutcome>;
  close(): Promise<void>;
}

export interface FactsPoolOptions {
  stages: FactStage[];
  /** Worker threads, each running the readers on one core (default: one per core). */
  workers?: number;
  maxPixels: number;
  paths?: VisorPaths;
}

interface Waiter {
  resolve: (o: FactsOutcome) => void;
  reject: (e: unknown) => void;
}

interface Slot {
  worker: Worker;
  inFlight: number;
}

/** Under tsx (tests, benchmarks) the worker is TypeScript: register tsx's loader inside it first. */
function spawn(config: FactsWorkerConfig): Worker {
  if (import.meta.url.endsWith('.ts')) {
    const ts = new URL('./facts-worker.ts', import.meta.url).href;
    const boot = `import('tsx/esm/api').then(({ register }) => { register(); return import(${JSON.stringify(ts)}); })`;
    return new Worker(boot, { eval: true, workerData: config });
  }
  return new Worker(new URL('./facts-worker.js', import.meta.url), { workerData: config });
}

/**
 * Fact workers fed with file bytes; each submitted image resolves to its facts or to the
 * reason it could not be read. Jobs go to the least busy worker.
 */
export class FactsPool implements FactsRunner {
  private readonly waiting = new Map<string, Waiter[]>();
  private failure: unknown = null;

  private constructor(
    private readonly slots: Slot[],
    readonly readers: Partial<Record<FactStage, string>>,
  ) {
    for (const slot of slots) {
      slot.worker.on('message', (m: FromFactsWorker) => this.onMessage(slot, m));
      slot.worker.on('error', (e) => this.fail(e));
      slot.worker.on('exit', (code) => {
        if (code !== 0) this.fail(new Error(`facts worker exited with code ${code}`));
      });
    }
  }

  static async start(opts: FactsPoolOptions): Promise<FactsPool> {
    const n = Math.max(1, opts.workers ?? os.availableParallelism());
    const config: FactsWorkerConfig = { stages: opts.stages, threads: 1, decodeAhead: 2, maxPixels: opts.maxPixels, paths: opts.paths };
    const workers = Array.from({ length: n }, () => spawn(config));
    const ready = await whenReady<FromFactsWorker, Extract<FromFactsWorker, { type: 'ready' }>>(workers);
    return new FactsPool(
      workers.map((worker) => ({ worker, inFlight: 0 })),
      ready[0]!.readers,
    );
  }

  private settle(id: string, outcome: FactsOutcome): void {
    const list = this.waiting.get(id);
    const w = list?.shift();
    if (list && list.length === 0) this.waiting.delete(id);
    w?.resolve(outcome);
  }

  private onMessage(slot: Slot, m: FromFactsWorker): void {
    if (m.type === 'facts') {
      slot.inFlight--;
      this.settle(m.id, { ok: true, facts: m.facts });
    } else if (m.type === 'failed') {
      slot.inFlight--;
      this.settle(m.id, { ok: false, reason: m.reason });
    } else if (m.type === 'error') {
      this.fail(new Error(m.message));
    }
  }

  private fail(e: unknown): void {
    if (this.failure) return;
    this.failure = e;
    for (const list of this.waiting.values()) list.forEach((w) => w.reject(e));
    this.waiting.clear();
  }

  /** Queues one image (the bytes are handed over to the worker, not copied, when they own their buffer). */
  compute(job: FactsJob): Promise<FactsOutcome> {
    if (this.failure) return Promise.reject(this.failure);
    const slot = this.slots.reduce((a, b) => (b.inFlight < a.inFlight ? b : a));
    slot.inFlight++;
    const done = new Promise<FactsOutcome>((resolve, reject) => {
      const list = this.waiting.get(job.id) ?? [];
      list.push({ resolve, reject });
      this.waiting.set(job.id, list);
    });
    const b = job.bytes;
    const own = b.byteOffset === 0 && b.byteLength === b.buffer.byteLength;
    const bytes = own ? new Uint8Array(b.buffer, 0, b.byteLength) : new Uint8Array(b);
    const msg: ToFactsWorker = { type: 'image', id: job.id, bytes, stages: job.stages, ...(job.existing ? { existing: job.existing } : {}) };
    slot.worker.postMessage(msg, [bytes.buffer as ArrayBuffer]);
    return done;
  }

  async close(): Promise<void> {
    await Promise.all(
      this.slots.map(async (s) => {
        s.worker.postMessage({ type: 'close' } satisfies ToFactsWorker);
        await s.worker.terminate();
      }),
    );
  }
}
