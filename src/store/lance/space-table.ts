import { checkSpaceName } from '../errors.js';
import type { ExactKernel } from '../exact-kernel.js';
import { arrow, fixedSizeList, lancedb, type Arrow, type LanceDB } from './arrow.js';
import { markOf, sameRows } from './appends.js';
import { idList } from './filters.js';
import { GrowingFloats } from './growing.js';
import { openTable } from './tables.js';
import { Tracked } from './tracked.js';

/** Space names are model ids: they become table names (`space_<name>`). */
export function spaceTableName(name: string): string {
  checkSpaceName(name);
  return `space_${name}`;
}

interface Vectors {
  ids: string[];
  rowOf: Map<string, number>;
  matrix: Float32Array;
}

/**
 * One extra embedding space: a LanceDB table of {id, vector}, keyed by the item's content id,
 * so rows survive an item's paths changing and are deleted with the item.
 */
export class SpaceTable {
  /** The vectors in memory, kept up with appended rows (see Tracked). */
  private readonly cache: Tracked<Vectors>;
  private readonly rows = new GrowingFloats();
  private annKnown: { version: number; has: boolean } | null = null;

  private constructor(
    readonly name: string,
    readonly dimension: number,
    private readonly table: LanceDB.Table,
  ) {
    this.cache = new Tracked(table, {
      all: async () => {
        this.rows.clear();
        const tbl = (await this.table.query().select(['id', 'vector']).withRowId().toArrow()) as unknown as Arrow.Table;
        return { value: this.held(null, tbl), mark: markOf(tbl) };
      },
      appended: async (held, a) => {
        if (a.count === 0) return held;
        const tbl = (await this.table.query().where(a.filter).select(['id', 'vector']).withRowId().toArrow()) as unknown as Arrow.Table;
        return sameRows(tbl, a) ? this.held(held, tbl) : null;
      },
    });
  }

  static async open(db: LanceDB.Connection, name: string, dimension: number): Promise<SpaceTable> {
    const tableName = spaceTableName(name);
    const table = await openTable(
      db,
      tableName,
      () => new arrow.Schema([new arrow.Field('id', new arrow.Utf8(), false), new arrow.Field('vector', fixedSizeList(dimension, new arrow.Float32()), false)]),
    );
    return new SpaceTable(name, dimension, table);
  }

  count(): Promise<number> {
    return this.table.countRows();
  }

  /** Appends vectors (row i of `matrix` for ids[i]); the caller adds only ids not yet here. */
  async add(ids: readonly string[], matrix: Float32Array): Promise<void> {
    const n = ids.length;
    if (n === 0) return;
    if (matrix.length !== n * this.dimension) throw new Error(`expected ${n}×${this.dimension} values for space ${this.name}, got ${matrix.length}`);
    idList(ids);
    const type = fixedSizeList(this.dimension, new arrow.Float32());
    const child = arrow.makeData({ type: new arrow.Float32(), length: n * this.dimension, nullCount: 0, data: matrix });
    const vectors = arrow.makeData({ type, length: n, nullCount: 0, child });
    const idData = arrow.vectorFromArray([...ids], new arrow.Utf8()).data[0]!;
    const schema = new arrow.Schema([new arrow.Field('id', new arrow.Utf8(), false), new arrow.Field('vector', type, false)]);
    const struct = arrow.makeData({ type: new arrow.Struct(schema.fields), length: n, nullCount: 0, children: [idData, vectors] });
    await this.table.add(new arrow.Table([new arrow.RecordBatch(schema, struct)]) as never);
  }

  async delete(ids: readonly string[]): Promise<void> {
    for (let i = 0; i < ids.length; i += 500) await this.table.delete(`id IN (${idList(ids.slice(i, i + 500))})`);
  }

  /** Every vector in memory, as of the table's version now. */
  async vectors(): Promise<{ ids: readonly string[]; rowOf: ReadonlyMap<string, number>; matrix: Float32Array }> {
    return this.cache.get(await this.table.version());
  }

  /** `base`'s rows (null: none) and then `tbl`'s; `base` itself is left as it is. */
  private held(base: Vectors | null, tbl: Arrow.Table): Vectors {
    const dim = this.dimension;
    const first = base?.ids.length ?? 0;
    const matrix = this.rows.grow(base?.matrix ?? null, (first + tbl.numRows) * dim);
    const added: string[] = [];
    for (const batch of tbl.batches) {
      const idCol = batch.getChild('id')!;
      let row = 0;
      for (const d of batch.getChild('vector')!.data) {
        const child = d.children[0]!;
        const start = child.offset + d.offset * dim;
        matrix.set((child.values as Float32Array).subarray(start, start + d.length * dim), (first + added.length) * dim);
        for (let i = 0; i < d.length; i++) added.push(String(idCol.get(row + i)));
        row += d.length;
      }
    }
    const rowOf = new Map(base?.rowOf);
    added.forEach((id, i) => rowOf.set(id, first + i));
    return { ids: base ? base.ids.concat(added) : added, rowOf, matrix };
  }

  async ids(): Promise<Set<string>> {
    return new Set((await this.vectors()).ids);
  }

  /**
   * Every item's score against a query, aligned with `itemIds` (the items table's order);
   * items with no vector in this space get NaN.
   */
  async scoreAligned(kernel: ExactKernel, query: Float32Array, itemIds: readonly string[]): Promise<Float32Array> {
    const v = await this.vectors();
    const out = new Float32Array(itemIds.length).fill(NaN);
    if (v.ids.length === 0) return out;
    const scores = await kernel.scoreAll(query, 1, v.matrix, v.ids.length);
    itemIds.forEach((id, i) => {
      const r = v.rowOf.get(id);
      if (r !== undefined) out[i] = scores[r]!;
    });
    return out;
  }

  async hasAnnIndex(): Promise<boolean> {
    // Asked on every query; listing indices takes milliseconds on a large table.
    const version = await this.table.version();
    if (this.annKnown?.version !== version) {
      this.annKnown = { version, has: (await this.table.listIndices()).some((i) => i.columns.includes('vector')) };
    }
    return this.annKnown.has;
  }

  /** Approximate nearest neighbours by cosine (only once an ANN index exists). */
  async annSearch(
    query: Float32Array,
    k: number,
    settings: { nprobes: number; ef: number; refineFactor: number },
  ): Promise<Array<{ id: string; score: number }>> {
    const rows = await this.table
      .vectorSearch(Array.from(query))
      .column('vector')
      .distanceType('cosine')
      .nprobes(settings.nprobes)
      .ef(Math.max(settings.ef, k * Math.max(1, settings.refineFactor)))
      .refineFactor(settings.refineFactor)
      .select(['id', '_distance'])
      .limit(k)
      .toArray();
    return rows.map((r) => ({ id: String(r.id), score: 1 - Number(r._distance) }));
  }

  /** Compacts the table, drops rows of items no longer stored, builds the ANN index when large. */
  async optimize(itemIds: ReadonlySet<string>, ann: { threshold: number; rowsPerPartition: number }): Promise<void> {
    const orphans = [...(await this.ids())].filter((id) => !itemIds.has(id));
    if (orphans.length) await this.delete(orphans);
    await this.table.optimize({ cleanupOlderThan: new Date(Date.now() - 10 * 60_000) });
    const n = await this.table.countRows();
    if (n >= ann.threshold && !(await this.hasAnnIndex())) {
      await this.table.createIndex('vector', {
        config: lancedb.Index.hnswSq({ distanceType: 'cosine', numPartitions: Math.max(1, Math.round(n / ann.rowsPerPartition)) }),
        replace: true,
      });
    }
  }

  close(): void {
    this.cache.clear();
    this.rows.clear();
    this.table.close();
  }
}
