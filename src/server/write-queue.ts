/**
 * Runs index changes one at a time. The index's write lock keeps other processes out, but it
 * belongs to the process: two requests in this server would both hold it. Queued, they also
 * leave readers a consistent index between writes.
 */
export class WriteQueue {
  private tail: Promise<unknown> = Promise.resolve();
  private pending = 0;

  /** Writes waiting or running. */
  get size(): number {
    return this.pending;
  }

  run<T>(job: () => Promise<T>): Promise<T> {
    this.pending++;
    const result = this.tail.then(job).finally(() => this.pending--);
    this.tail = result.catch(() => undefined);
    return result;
  }
}
