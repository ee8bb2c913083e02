import type { ExactKernel } from '../exact-kernel.js';

/** The exact kernel (onnxruntime), started on the first exact search, not when the index is opened. */
export class LazyKernel {
  private kernel: ExactKernel | null = null;

  async get(): Promise<ExactKernel> {
    this.kernel ??= await (await import('../exact-kernel.js')).ExactKernel.create();
    return this.kernel;
  }

  async close(): Promise<void> {
    await this.kernel?.close();
    this.kernel = null;
  }
}
