import type { SideTable } from '../port.js';
import type { SideColumns, SideColumnType, SideRow, SideSchema } from '../types.js';
import { arrow, fixedSizeData, fixedSizeList, tableOf, type Arrow, type LanceDB } from './arrow.js';
import { openTable, type CreatedElsewhere } from './tables.js';

/** Side tables as LanceDB tables of the index's folder: an `id` column, then one per schema column. */

function arrowType(t: SideColumnType): Arrow.DataType {
  if (typeof t === 'object') return fixedSizeList(t.vector, new arrow.Float32());
  if (t === 'string') return new arrow.Utf8();
  if (t === 'float32') return new arrow.Float32();
  if (t === 'bool') return new arrow.Bool();
  return new arrow.Binary();
}

/** The Arrow schema of a side table: `id` first, then the columns in the order given, none nullable. */
export function sideTableSchema(schema: SideSchema): Arrow.Schema {
  return new arrow.Schema([
    new arrow.Field('id', new arrow.Utf8(), false),
    ...Object.entries(schema).map(([name, t]) => new arrow.Field(name, arrowType(t), false)),
  ]);
}

const sqlString = (s: string) => `'${s.replace(/'/g, "''")}'`;

export class LanceSideTable<S extends SideSchema> implements SideTable<S> {
  private closed = false;

  private constructor(
    private readonly table: LanceDB.Table,
    private readonly schema: S,
  ) {}

  /** Opens the table, or creates it with `schema` when missing (waits for it where it is created elsewhere). */
  static async open<S extends SideSchema>(db: LanceDB.Connection, name: string, schema: S, elsewhere?: CreatedElsewhere): Promise<LanceSideTable<S>> {
    return new LanceSideTable(await openTable(db, name, () => sideTableSchema(schema), elsewhere), schema);
  }

  version(): Promise<number> {
    return this.table.version();
  }

  async put(rows: ReadonlyArray<SideRow<S>>): Promise<void> {
    if (rows.length === 0) return;
    const schema = sideTableSchema(this.schema);
    const n = rows.length;
    const columns: Record<string, Arrow.Data> = {
      id: arrow.vectorFromArray(
        rows.map((r) => r.id),
        new arrow.Utf8(),
      ).data[0]!,
    };
    for (const field of schema.fields.slice(1)) {
      const t = this.schema[field.name]!;
      const values = rows.map((r) => (r as Record<string, unknown>)[field.name]);
      if (typeof t === 'object') {
        const flat = new Float32Array(n * t.vector);
        values.forEach((v, i) => flat.set(v as Float32Array, i * t.vector));
        columns[field.name] = fixedSizeData(field.type as Arrow.FixedSizeList, flat, n);
      } else {
        columns[field.name] = arrow.vectorFromArray(values, field.type).data[0]!;
      }
    }
    await this.table
      .mergeInsert('id')
      .whenMatchedUpdateAll()
      .whenNotMatchedInsertAll()
      .execute(tableOf(schema, columns, n));
  }

  async read<K extends keyof S & string>(columns: readonly K[]): Promise<SideColumns<S, K>> {
    const tbl = (await this.table
      .query()
      .select(['id', ...columns])
      .toArrow()) as unknown as Arrow.Table;
    const n = tbl.numRows;
    const ids: string[] = [];
    const out: Record<string, unknown> = {};
    for (const c of columns) {
      const t = this.schema[c]!;
      out[c] = typeof t === 'object' ? new Float32Array(n * t.vector) : t === 'float32' ? new Float32Array(n) : t === 'bool' ? new Uint8Array(n) : [];
    }
    for (const batch of tbl.batches) {
      const idCol = batch.getChild('id')!;
      const cols = columns.map((c) => [c, this.schema[c]!, batch.getChild(c)!] as const);
      for (let r = 0; r < batch.numRows; r++) {
        const i = ids.length;
        ids.push(String(idCol.get(r)));
        for (const [c, t, col] of cols) {
          const value: unknown = col.get(r);
          if (typeof t === 'object') (out[c] as Float32Array).set((value as Arrow.Vector).toArray() as Float32Array, i * t.vector);
          else if (t === 'float32') (out[c] as Float32Array)[i] = Number(value);
          else if (t === 'bool') (out[c] as Uint8Array)[i] = value ? 1 : 0;
          else if (t === 'bytes') (out[c] as Uint8Array[]).push(value as Uint8Array);
          else (out[c] as string[]).push(String(value));
        }
      }
    }
    return { ids, ...out } as SideColumns<S, K>;
  }

  async delete(ids: readonly string[]): Promise<void> {
    for (let i = 0; i < ids.length; i += 500)
      await this.table.delete(
        `id IN (${ids
          .slice(i, i + 500)
          .map(sqlString)
          .join(', ')})`,
      );
  }

  async purge(): Promise<void> {
    // Compaction rewrites the files holding deleted rows; the cleanup then drops every older
    // version and file, however recent (the write lock keeps other writers out meanwhile).
    await this.table.optimize({ cleanupOlderThan: new Date(Date.now() + 1000), deleteUnverified: true });
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.table.close();
  }
}
