import { float16ToFloat32 } from '../float16.js';
import type { BatchHits, VectorSearchOptions } from '../types.js';
import { markOf, sameRows, type Appended, type Mark } from './appends.js';
import { rowIdHalves, type Arrow, type LanceDB } from './arrow.js';
import { GrowingFloats } from './growing.js';
import type { LazyKernel } from './kernel.js';
import { Tracked } from './tracked.js';

/** Every item's vector in memory, as of one table version: what exact search and dense scoring read. */
export interface Flat {
  version: number;
  ids: string[];
  rowOf: Map<string, number>;
  /** Row of each LanceDB row id read with the vectors: per fragment, by offset (-1: none). */
  rowOfRowId: Map<number, Int32Array>;
  matrix: Float32Array;
  /** Class probabilities in the same row order, loaded on first use (text queries need them). */
  probs?: Float32Array;
}

/**
 * Something held row for row beside the vectors (the items' summary columns): kept up with rows
 * appended to the table by the vectors' own read of them, which fetches its columns too.
 */
export interface Follower {
  /** Columns it needs of rows appended after `flat`'s, or null when it holds nothing for `flat`. */
  wants(flat: Flat): readonly string[] | null;
  /** `to` is `from` and the appended `rows` (null: none), which hold the columns it wanted. */
  extend(from: Flat, to: Flat, rows: Arrow.Table | null): void;
  /** The vectors are being read anew: what is held goes. */
  reset(): void;
}

/**
 * The vectors (and probabilities) of the items table held in memory, kept up with the table:
 * rows appended since are read and added, anything else reads every row again (see Tracked).
 */
export class FlatCache {
  private readonly tracked: Tracked<Flat>;
  private readonly followers: Follower[] = [];
  private readonly vectorRows = new GrowingFloats();
  private readonly probRows = new GrowingFloats();
  /** The rows each appended read added, for the followers, once the read is kept. */
  private readonly added = new WeakMap<Flat, { rows: Arrow.Table | null; wanted: Array<readonly string[] | null> }>();

  constructor(
    private readonly table: LanceDB.Table,
    private readonly dim: number,
    private readonly classes: number,
    private readonly version: () => Promise<number>,
    private readonly kernel: LazyKernel,
  ) {
    this.tracked = new Tracked(table, {
      all: (v) => this.readAll(v),
      appended: (held, a, v) => this.readAppended(held, a, v),
      kept: (held, next) => this.kept(held, next),
    });
  }

  /** Keeps `f` up with the vectors (see Follower). */
  follow(f: Follower): void {
    this.followers.push(f);
  }

  /** The vectors in memory now, whatever their version (null: none read yet). */
  get current(): Flat | null {
    return this.tracked.latest;
  }

  /** All vectors in memory for exact search, as of the table's version now. */
  async get(): Promise<Flat> {
    // Concurrent searches (a server's) share one read.
    return this.tracked.get(await this.version());
  }

  private async readAll(version: number): Promise<{ value: Flat; mark: Mark }> {
    for (const f of this.followers) f.reset();
    this.vectorRows.clear();
    this.probRows.clear();
    const tbl = (await this.table.query().select(['id', 'vector']).withRowId().toArrow()) as unknown as Arrow.Table;
    return { value: this.add(null, version, tbl, false), mark: markOf(tbl) };
  }

  private async readAppended(held: Flat, appended: Appended, version: number): Promise<Flat | null> {
    // Probabilities once read are kept up too; so is what the followers hold, in the same read.
    const probs = held.probs !== undefined && this.classes > 0;
    const wanted = this.followers.map((f) => f.wants(held));
    const columns = new Set(['id', 'vector', ...(probs ? ['probs'] : []), ...wanted.flatMap((w) => w ?? [])]);
    let rows: Arrow.Table | null = null;
    if (appended.count > 0) {
      rows = (await this.table
        .query()
        .where(appended.filter)
        .select([...columns])
        .withRowId()
        .toArrow()) as unknown as Arrow.Table;
      if (!sameRows(rows, appended)) return null; // the table moved on meanwhile: read everything
    }
    const next = rows ? this.add(held, version, rows, probs) : { ...held, version };
    this.added.set(next, { rows, wanted });
    return next;
  }

  private kept(held: Flat, next: Flat): void {
    const a = this.added.get(next);
    this.added.delete(next);
    this.followers.forEach((f, i) => (a?.wanted[i] ? f.extend(held, next, a.rows) : f.reset()));
  }

  /** `base`'s rows (null: none) and then `tbl`'s, as of `version`; `base` itself is left as it is. */
  private add(base: Flat | null, version: number, tbl: Arrow.Table, withProbs: boolean): Flat {
    const { dim, classes } = this;
    const first = base?.ids.length ?? 0;
    const n = first + tbl.numRows;
    const matrix = this.vectorRows.grow(base?.matrix ?? null, n * dim);
    const probs = withProbs ? this.probRows.grow(base!.probs!, n * classes) : undefined;
    const added: string[] = [];
    const place: Array<[number, number, number]> = []; // fragment, offset, row
    for (const batch of tbl.batches) {
      const at = first + added.length;
      const idCol = batch.getChild('id')!;
      const halves = rowIdHalves(batch.getChild('_rowid')!);
      for (let i = 0; i < halves.length / 2; i++) place.push([halves[2 * i + 1]!, halves[2 * i]!, at + i]);
      let row = 0; // row within this batch, across the vector column's chunks
      for (const d of batch.getChild('vector')!.data) {
        const child = d.children[0]!;
        const values = child.values as Float32Array;
        const start = child.offset + d.offset * dim;
        matrix.set(values.subarray(start, start + d.length * dim), (at + row) * dim);
        for (let i = 0; i < d.length; i++) added.push(String(idCol.get(row + i)));
        row += d.length;
      }
      if (probs) {
        row = 0;
        for (const d of batch.getChild('probs')!.data) {
          const child = d.children[0]!;
          const start = child.offset + d.offset * classes;
          probs.set(float16ToFloat32((child.values as Uint16Array).subarray(start, start + d.length * classes)), (at + row) * classes);
          row += d.length;
        }
      }
    }
    const ids = base ? base.ids.concat(added) : added;
    const rowOf = new Map(base?.rowOf);
    added.forEach((id, i) => rowOf.set(id, first + i));
    // Appended rows are in fragments of their own, after every fragment of base's.
    const rowOfRowId = new Map(base?.rowOfRowId);
    const size = new Map<number, number>();
    for (const [f, o] of place) size.set(f, Math.max(size.get(f) ?? 0, o + 1));
    for (const [f, len] of size) {
      const had = rowOfRowId.get(f);
      const offsets = new Int32Array(Math.max(len, had?.length ?? 0)).fill(-1);
      if (had) offsets.set(had);
      rowOfRowId.set(f, offsets);
    }
    for (const [f, o, r] of place) rowOfRowId.get(f)![o] = r;
    return { version, ids, rowOf, rowOfRowId, matrix, ...(probs ? { probs } : {}) };
  }

  /** Class probabilities of every item, rows aligned with the vectors' ids (none read where the index has no classes). */
  async probabilities(): Promise<{ ids: readonly string[]; matrix: Float32Array; classes: number }> {
    const flat = await this.get();
    const classes = this.classes;
    if (!flat.probs) {
      const probs = new Float32Array(flat.ids.length * classes);
      if (classes > 0) {
        const tbl = (await this.table.query().select(['id', 'probs']).toArrow()) as unknown as Arrow.Table;
        for (const batch of tbl.batches) {
          const idCol = batch.getChild('id')!;
          let row = 0;
          for (const d of batch.getChild('probs')!.data) {
            const child = d.children[0]!;
            const start = child.offset + d.offset * classes;
            const half = (child.values as Uint16Array).subarray(start, start + d.length * classes);
            const f = float16ToFloat32(half);
            for (let i = 0; i < d.length; i++) {
              const r = flat.rowOf.get(String(idCol.get(row + i)));
              if (r !== undefined) probs.set(f.subarray(i * classes, (i + 1) * classes), r * classes);
            }
            row += d.length;
          }
        }
      }
      flat.probs = probs;
    }
    return { ids: flat.ids, matrix: flat.probs, classes };
  }

  /**
   * Exact top k of every row for each query, with the filter's rows only and the excluded ones
   * left out (their score is -Infinity where fewer than k remain).
   */
  async topK(queries: Float32Array, count: number, opts: VectorSearchOptions, whereIds: (where: string) => Promise<Set<string>>): Promise<BatchHits> {
    const flat = await this.get();
    const n = flat.ids.length;
    if (n === 0) return { count, k: 0, rows: new Int32Array(0), scores: new Float32Array(0), ids: flat.ids };
    const bias = new Float32Array(n);
    if (opts.where) {
      bias.fill(-Infinity);
      for (const id of await whereIds(opts.where)) {
        const row = flat.rowOf.get(id);
        if (row !== undefined) bias[row] = 0;
      }
    }
    for (const id of opts.exclude ?? []) {
      const row = flat.rowOf.get(id);
      if (row !== undefined) bias[row] = -Infinity;
    }
    const top = await this.kernel.topK(queries, count, flat.matrix, n, bias, opts.k);
    return { count, k: top.k, rows: top.rows, scores: top.scores, ids: flat.ids };
  }

  /** Lets go of the vectors. */
  clear(): void {
    this.tracked.clear();
    this.vectorRows.clear();
    this.probRows.clear();
  }
}
