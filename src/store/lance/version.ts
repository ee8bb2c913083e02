import type { LanceDB } from './arrow.js';

/**
 * How long reads reuse the table version last asked for. LanceDB's version() can hold the event
 * loop for milliseconds (measured: 2–9 ms for one call in ten under a search load), and a
 * search asks several times (answer cache, vectors, expansion, page records). Writes through
 * this store forget it at once; another process's writes already take up to the consistency
 * check's interval to be seen (a second for a local index, a quarter of the consistency interval
 * for a shard on object storage), and this adds at most 100 ms.
 */
const VERSION_REUSE_MS = 100;

/**
 * The items table's version as last asked, shared by reads for VERSION_REUSE_MS; every write
 * forgets it. Where LanceDB does not look for other processes' commits (checkMs, see
 * LanceAt.itemsCheckSeconds), the store's opener looks (check()) about every checkMs, at moments
 * of its choosing; reads look (get(), due()) only when twice that has passed with no look.
 */
export class TableVersion {
  private read: { at: number; version: Promise<number> } | null = null;
  /** The version last read (-1: none yet). */
  private last = -1;
  /** When the last look for commits began (explicit checks only). */
  private checkedAt = -Infinity;
  private checking: Promise<void> | null = null;

  constructor(
    private readonly table: LanceDB.Table,
    /** Called when a read finds the table has moved on (another process's commit, or a write here). */
    private readonly moved: (version: number) => void = () => undefined,
    /** How often the opener looks for other processes' commits (null: LanceDB does, at its read-consistency interval). */
    private readonly checkMs: number | null = null,
  ) {}

  /** The table's version: it changes with every write, so it keys caches of search answers. */
  get(): Promise<number> {
    return this.overdue() ? this.check().then(() => this.current()) : this.current();
  }

  /** Looks for commits where twice checkMs has passed since the last look: for reads that do not ask the version first. */
  async due(): Promise<void> {
    if (this.overdue()) await this.check();
  }

  private overdue(): boolean {
    return this.checkMs !== null && performance.now() - this.checkedAt >= 2 * this.checkMs;
  }

  /** The version as LanceDB has it now. */
  private current(): Promise<number> {
    const now = performance.now();
    if (this.read && now - this.read.at < VERSION_REUSE_MS) return this.read.version;
    const read = { at: now, version: this.table.version() };
    this.read = read;
    read.version.then(
      (v) => {
        if (v === this.last) return;
        this.last = v;
        this.moved(v);
      },
      () => this.read === read && (this.read = null),
    );
    return read.version;
  }

  /** Looks for other processes' commits now (one look at a time); the next read asks the version again. */
  check(): Promise<void> {
    this.checking ??= (async () => {
      const at = performance.now();
      try {
        await this.table.checkoutLatest();
        this.checkedAt = at;
      } finally {
        this.read = null;
        this.checking = null;
      }
    })();
    return this.checking;
  }

  /** After any write: the next read asks LanceDB for the version again. */
  forget(): void {
    this.read = null;
  }
}
