/** How long after the store was last asked its version (or searched) the lookout keeps looking by itself. */
const KEEP_LOOKING_MS = 10_000;

/**
 * Looks at every shard for other nodes' commits at once, every `everyMs`. While the store is in
 * use (asked its version, or searched, in the last ten seconds: a node serving searches), in the
 * background: a commit is noticed, and its rows read in (each shard's read-ahead, see
 * LanceStore), on the lookout's clock rather than at the next search, which no look then holds
 * up. In line, before the version is read, when the last look is twice that old (the first
 * search after a pause). Every shard at once, not each at a moment of its own: a batch of new
 * images spans shards, and a search would otherwise see it shard by shard, one look after another.
 */
export class Lookout {
  private lookedAt = -Infinity;
  private looking: Promise<void> | null = null;
  private askedAt = -Infinity;
  private running: Promise<void> | null = null;
  private wake: (() => void) | null = null;
  private closed = false;

  constructor(
    /** Looks at every shard (and reads each one's version, which starts its read-ahead). */
    private readonly lookAll: () => Promise<void>,
    private readonly everyMs: number,
    private readonly keepMs = KEEP_LOOKING_MS,
  ) {}

  /** Before the store's version is read (or a search made): looks now if the last look is too old, and keeps looking meanwhile. */
  async asked(): Promise<void> {
    if (this.closed) return;
    this.askedAt = performance.now();
    // (Looking continually makes sense only at an interval: with none, every ask looks in line.)
    if (this.everyMs > 0) this.running ??= this.keepLooking();
    if (performance.now() - this.lookedAt >= 2 * this.everyMs) await this.look();
  }

  private look(): Promise<void> {
    this.looking ??= (async () => {
      this.lookedAt = performance.now();
      try {
        await this.lookAll();
      } finally {
        this.looking = null;
      }
    })();
    return this.looking;
  }

  private async keepLooking(): Promise<void> {
    try {
      while (!this.closed && performance.now() - this.askedAt < this.keepMs) {
        const wait = this.lookedAt + this.everyMs - performance.now();
        // An unref'd timer: a process with nothing else to do need not wait for the lookout.
        if (wait > 0) {
          await new Promise<void>((resolve) => {
            this.wake = resolve;
            setTimeout(resolve, wait).unref();
          });
        }
        this.wake = null;
        // A failed look (the store unreachable for a moment) is tried again next time; searches report their own errors.
        if (!this.closed) await this.look().catch(() => undefined);
      }
    } finally {
      this.running = null;
    }
  }

  /** Stops looking (a look under way is waited for). */
  async close(): Promise<void> {
    this.closed = true;
    this.wake?.();
    await this.running;
  }
}
