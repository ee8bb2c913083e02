import type { ExactKernel, TopK } from '../exact-kernel.js';

/**
 * The exact kernel (onnxruntime), started on the first exact search, not when the index is opened.
 * The shards of a sharded collection share one, taking turns at top-k searches: each top-k runs on
 * every core, and four shards' kernels side by side left their threads spinning against each
 * other (measured on 2 cores: a query's p50 rose from 1.5 ms to 8 ms, with spikes of 20–100 ms).
 */
export class LazyKernel {
  private kernel: Promise<ExactKernel> | null = null;
  /** The last top-k queued (shared kernels only): the next starts after it. */
  private turn: Promise<unknown> = Promise.resolve();

  /** `shared`: used by several stores at once, whose top-k searches then run one at a time. */
  constructor(readonly shared = false) {}

  async get(): Promise<ExactKernel> {
    if (!this.kernel) {
      const made = import('../exact-kernel.js').then((m) => m.ExactKernel.create());
      this.kernel = made;
      made.catch(() => this.kernel === made && (this.kernel = null));
    }
    return this.kernel;
  }

  /** ExactKernel.topK, in turn with the other stores' where the kernel is shared. */
  async topK(queries: Float32Array, count: number, matrix: Float32Array, n: number, bias: Float32Array, k: number): Promise<TopK> {
    const kernel = await this.get();
    if (!this.shared) return kernel.topK(queries, count, matrix, n, bias, k);
    const run = this.turn.then(() => kernel.topK(queries, count, matrix, n, bias, k));
    this.turn = run.catch(() => undefined);
    return run;
  }

  async close(): Promise<void> {
    const k = this.kernel;
    this.kernel = null;
    await (await k?.catch(() => null))?.close();
  }
}
