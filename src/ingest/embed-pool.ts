import os from 'node:os';
import { Worker } from 'node:worker_threads';
import { whenReady } from './worker-ready.js';
import type { FromWorker, ToWorker, WorkerConfig } from './embed-protocol.js';

export type EmbedOutcome = { ok: true; width: number; height: number; format: string; vector: Float32Array; probs: Float32Array } | { ok: false; reason: string };

export interface EmbedPoolOptions {
  /** Worker threads, each running the model on one core (default: one per core). */
  workers?: number;
  batchSize?: number;
  maxPixels: number;
  /** Model options passed to each worker: id (default MobileNetV2), search paths, downloads. */
  model?: Record<string, unknown>;
}

interface Waiter {
  resolve: (o: EmbedOutcome) => void;
  reject: (e: unknown) => void;
}

interface Slot {
  worker: Worker;
  inFlight: number;
  onFlushed: Array<() => void>;
}

/** Under tsx (tests, benchmarks) the worker is TypeScript: register tsx's loader inside it first. */
function spawn(config: WorkerConfig): Worker {
  const js = new URL('./embed-worker.js', import.meta.url);
  if (import.meta.url.endsWith('.ts')) {
    const ts = new URL('./embed-worker.ts', import.meta.url).href;
    const boot = `import('tsx/esm/api').then(({ register }) => { register(); return import(${JSON.stringify(ts)}); })`;
    return new Worker(boot, { eval: true, workerData: config });
  }
  return new Worker(js, { workerData: config });
}

/**
 * Embedding workers fed with file bytes; each submitted image resolves to its vectors or to
 * the reason it could not be decoded.
 */
export class EmbedPool {
  private readonly waiting = new Map<string, Waiter[]>();
  private failure: unknown = null;

  private constructor(
    private readonly slots: Slot[],
    readonly featureDim: number,
    readonly numClasses: number,
  ) {
    for (const slot of slots) {
      slot.worker.on('message', (m: FromWorker) => this.onMessage(slot, m));
      slot.worker.on('error', (e) => this.fail(e));
      slot.worker.on('exit', (code) => {
        if (code !== 0) this.fail(new Error(`embedding worker exited with code ${code}`));
      });
    }
  }

  static async start(opts: EmbedPoolOptions): Promise<EmbedPool> {
    const n = Math.max(1, opts.workers ?? os.availableParallelism());
    const config: WorkerConfig = {
      threads: 1,
      batchSize: opts.batchSize ?? 8,
      decodeConcurrency: 4,
      maxPixels: opts.maxPixels,
      model: opts.model ?? {},
    };
    const workers = Array.from({ length: n }, () => spawn(config));
    const ready = await whenReady<FromWorker, Extract<FromWorker, { type: 'ready' }>>(workers);
    return new EmbedPool(
      workers.map((worker) => ({ worker, inFlight: 0, onFlushed: [] })),
      ready[0]!.featureDim,
      ready[0]!.numClasses,
    );
  }

  private settle(id: string, outcome: EmbedOutcome): void {
    const list = this.waiting.get(id);
    const w = list?.shift();
    if (list && list.length === 0) this.waiting.delete(id);
    w?.resolve(outcome);
  }

  private onMessage(slot: Slot, m: FromWorker): void {
    if (m.type === 'embedded') {
      m.items.forEach((it, i) => {
        slot.inFlight--;
        this.settle(it.id, {
          ok: true,
          width: it.width,
          height: it.height,
          format: it.format,
          vector: m.features.subarray(i * this.featureDim, (i + 1) * this.featureDim),
          probs: m.probs.subarray(i * this.numClasses, (i + 1) * this.numClasses),
        });
      });
    } else if (m.type === 'failed') {
      slot.inFlight--;
      this.settle(m.id, { ok: false, reason: m.reason });
    } else if (m.type === 'flushed') {
      slot.onFlushed.splice(0).forEach((f) => f());
    } else if (m.type === 'error') {
      this.fail(new Error(m.message));
    }
  }

  private fail(e: unknown): void {
    if (this.failure) return;
    this.failure = e;
    for (const list of this.waiting.values()) list.forEach((w) => w.reject(e));
    this.waiting.clear();
    for (const s of this.slots) s.onFlushed.splice(0).forEach((f) => f());
  }

  /** Queues one image (the bytes are handed over to the worker, not copied). */
  embed(id: string, bytes: Buffer): Promise<EmbedOutcome> {
    if (this.failure) return Promise.reject(this.failure);
    const slot = this.slots.reduce((a, b) => (b.inFlight < a.inFlight ? b : a));
    slot.inFlight++;
    const done = new Promise<EmbedOutcome>((resolve, reject) => {
      const list = this.waiting.get(id) ?? [];
      list.push({ resolve, reject });
      this.waiting.set(id, list);
    });
    // Transfer when the Buffer owns its whole ArrayBuffer; small Buffers share a pool, so copy.
    const own = bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength;
    const data = own ? new Uint8Array(bytes.buffer, 0, bytes.byteLength) : new Uint8Array(bytes);
    const msg: ToWorker = { type: 'image', id, bytes: data };
    slot.worker.postMessage(msg, [data.buffer as ArrayBuffer]);
    return done;
  }

  /** Makes every worker run its partial batch. */
  async flush(): Promise<void> {
    await Promise.all(
      this.slots.map(
        (s) =>
          new Promise<void>((resolve) => {
            if (this.failure) return resolve();
            s.onFlushed.push(resolve);
            s.worker.postMessage({ type: 'flush' } satisfies ToWorker);
          }),
      ),
    );
  }

  async close(): Promise<void> {
    await Promise.all(
      this.slots.map(async (s) => {
        s.worker.postMessage({ type: 'close' } satisfies ToWorker);
        await s.worker.terminate();
      }),
    );
  }
}
