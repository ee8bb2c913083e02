import { float16ToFloat32 } from '../float16.js';
import type { BatchHits, VectorSearchOptions } from '../types.js';
import { rowIdHalves, type Arrow, type LanceDB } from './arrow.js';
import type { LazyKernel } from './kernel.js';

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

/** The vectors (and probabilities) of the items table held in memory, reloaded when the table has changed. */
export class FlatCache {
  private flat: Flat | null = null;
  private loading: { version: number; promise: Promise<Flat> } | null = null;

  constructor(
    private readonly table: LanceDB.Table,
    private readonly dim: number,
    private readonly classes: number,
    private readonly version: () => Promise<number>,
    private readonly kernel: LazyKernel,
    /** Called as a reload starts, so what was kept for the old version can go too. */
    private readonly onReload: () => void,
  ) {}

  /** The vectors in memory now, whatever their version (null: none read yet). */
  get current(): Flat | null {
    return this.flat;
  }

  /** All vectors in memory for exact search; reloaded when the table has changed. */
  async get(): Promise<Flat> {
    const version = await this.version();
    if (this.flat && this.flat.version === version) return this.flat;
    // Concurrent searches (a server's) share one load rather than each reading every vector.
    if (this.loading?.version === version) return this.loading.promise;
    const promise = this.load(version).finally(() => {
      if (this.loading?.promise === promise) this.loading = null;
    });
    this.loading = { version, promise };
    return promise;
  }

  private async load(version: number): Promise<Flat> {
    this.flat = null; // let the old matrix go before allocating the new one
    this.onReload();
    const dim = this.dim;
    const n = await this.table.countRows();
    const matrix = new Float32Array(n * dim);
    const ids: string[] = [];
    const tbl = (await this.table.query().select(['id', 'vector']).withRowId().toArrow()) as unknown as Arrow.Table;
    const rowOfRowId = new Map<number, Int32Array>();
    const place: Array<[number, number, number]> = []; // fragment, offset, row
    for (const batch of tbl.batches) {
      const idCol = batch.getChild('id')!;
      const halves = rowIdHalves(batch.getChild('_rowid')!);
      for (let i = 0; i < halves.length / 2; i++) place.push([halves[2 * i + 1]!, halves[2 * i]!, ids.length + i]);
      let row = 0; // row within this batch, across the vector column's chunks
      for (const d of batch.getChild('vector')!.data) {
        const child = d.children[0]!;
        const values = child.values as Float32Array;
        const start = child.offset + d.offset * dim;
        matrix.set(values.subarray(start, start + d.length * dim), ids.length * dim);
        for (let i = 0; i < d.length; i++) ids.push(String(idCol.get(row + i)));
        row += d.length;
      }
    }
    const size = new Map<number, number>();
    for (const [f, o] of place) size.set(f, Math.max(size.get(f) ?? 0, o + 1));
    for (const [f, len] of size) rowOfRowId.set(f, new Int32Array(len).fill(-1));
    for (const [f, o, r] of place) rowOfRowId.get(f)![o] = r;
    const rowOf = new Map(ids.map((id, i) => [id, i]));
    this.flat = { version, ids, rowOf, rowOfRowId, matrix };
    return this.flat;
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
    this.flat = null;
  }
}
