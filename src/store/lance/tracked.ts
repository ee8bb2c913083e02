import type { LanceDB } from './arrow.js';
import { readAppended, type Appended, type Mark } from './appends.js';

/** How a Tracked value is read: from every row, or from the one before and the rows appended since. */
export interface TrackedReads<T> {
  /** The value from every row, with the mark of what was read. */
  all(version: number): Promise<{ value: T; mark: Mark }>;
  /**
   * `held` with the rows appended since it was read (checked with sameRows); null: read
   * everything instead. `held` itself is left as it is, and so is anything else (see kept).
   */
  appended(held: T, appended: Appended, version: number): Promise<T | null>;
  /** Called when a value appended() made is kept. */
  kept?(held: T, value: T): void;
}

interface Read<T> {
  value: T;
  mark: Mark;
}

/**
 * A value made of a table's rows (its vectors, term statistics, a filter's ids), kept per table
 * version. When the table has moved on, only the rows appended since are read and added to the
 * value held; where rows already read have changed (deleted, updated, compacted), everything is
 * read again. One read at a time, each taking up from the one before: a node on a collection
 * that a worker is adding to reads each new row once, not the whole table on every commit.
 */
export class Tracked<T> {
  private held: { version: number; read: Promise<Read<T>> } | null = null;
  private last: T | null = null;

  constructor(
    private readonly table: LanceDB.Table,
    private readonly reads: TrackedReads<T>,
  ) {}

  /** The value last read, whatever its version (null: none yet, or everything is being read again). */
  get latest(): T | null {
    return this.last;
  }

  /** The value as of `version` (the table's version now, as the caller last asked it). */
  get(version: number): Promise<T> {
    if (this.held?.version === version) return this.held.read.then((r) => r.value);
    const read = this.update(this.held?.read ?? null, version);
    this.held = { version, read };
    read.then(
      (r) => this.held?.read === read && (this.last = r.value),
      () => this.held?.read === read && (this.held = null),
    );
    return read.then((r) => r.value);
  }

  private async update(before: Promise<Read<T>> | null, version: number): Promise<Read<T>> {
    let prev = before ? await before.catch(() => null) : null;
    before = null;
    if (prev) {
      const held = prev.value;
      const up = await readAppended(this.table, prev.mark, (a) => this.reads.appended(held, a, version));
      if (up) {
        this.reads.kept?.(held, up.value);
        return up;
      }
    }
    // Let the old value go before reading everything again (a matrix of vectors can be large).
    prev = null;
    this.last = null;
    return this.reads.all(version);
  }

  /** Lets go of the value. */
  clear(): void {
    this.held = null;
    this.last = null;
  }
}
