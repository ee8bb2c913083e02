import { CORE_COLUMN_SET } from '../columns.js';
import { checkItemIds } from '../errors.js';
import type { FileState, ItemWithVectors, Manifest, MetaColumnType, StoredItem } from '../types.js';
import { arrow, type Arrow, type LanceDB } from './arrow.js';
import { idList } from './filters.js';
import { itemsToArrow, rowToItem, rowToItemWithVectors } from './records.js';
import { SUMMARY_COLUMNS } from './schema.js';
import type { SummaryCache } from './summary.js';

/** The items table's reads and writes: records, files, catalogue columns. */
export class ItemTable {
  constructor(
    private readonly table: LanceDB.Table,
    private readonly manifest: Manifest,
    private readonly summary: SummaryCache,
    /** Called after every write (the version read before it is stale). */
    private readonly wrote: () => void,
  ) {}

  count(): Promise<number> {
    return this.table.countRows();
  }

  async fileStates(): Promise<FileState[]> {
    // Column by column: row objects cost ~20 µs each, which a 100k-image re-index would feel.
    const tbl = (await this.table.query().select(['id', 'paths', 'file_sizes', 'file_mtimes']).toArrow()) as unknown as Arrow.Table;
    const out: FileState[] = [];
    for (const batch of tbl.batches) {
      const ids = batch.getChild('id')!;
      const paths = batch.getChild('paths')!;
      const sizes = batch.getChild('file_sizes')!;
      const mtimes = batch.getChild('file_mtimes')!;
      for (let r = 0; r < batch.numRows; r++) {
        const id = String(ids.get(r));
        const p = paths.get(r) as Arrow.Vector;
        const sz = (sizes.get(r) as Arrow.Vector).toArray() as Float64Array;
        const mt = (mtimes.get(r) as Arrow.Vector).toArray() as Float64Array;
        for (let i = 0; i < p.length; i++) out.push({ path: String(p.get(i)), id, size: sz[i] ?? -1, mtimeMs: mt[i] ?? -1 });
      }
    }
    return out;
  }

  async getItems(ids: readonly string[]): Promise<StoredItem[]> {
    if (ids.length === 0) return [];
    const held = await this.summary.heldItems(ids);
    if (held) return held;
    const rows =
      (await this.summary.takeByPosition(ids)) ??
      (await this.table
        .query()
        .where(`id IN (${idList(ids)})`)
        .select([...SUMMARY_COLUMNS])
        .toArray());
    const byId = new Map(rows.map((r) => [String(r.id), rowToItem(r)]));
    return ids.map((id) => byId.get(id)).filter((x): x is StoredItem => x !== undefined);
  }

  async getItemsWithVectors(ids: readonly string[]): Promise<ItemWithVectors[]> {
    if (ids.length === 0) return [];
    checkItemIds(ids); // found by position or not, a malformed id is the caller's mistake
    const rows =
      (await this.summary.wholeRowsByPosition(ids)) ??
      (await this.table
        .query()
        .where(`id IN (${idList(ids)})`)
        .toArray());
    const byId = new Map<string, ItemWithVectors>();
    for (const r of rows) {
      const item = rowToItemWithVectors(r);
      byId.set(item.id, item);
    }
    return ids.map((id) => byId.get(id)).filter((x): x is ItemWithVectors => x !== undefined);
  }

  private async toArrow(items: readonly ItemWithVectors[]): Promise<Arrow.Table> {
    const metaCols = await this.metaColumns();
    const schema = (await this.table.schema()) as unknown as Arrow.Schema;
    return itemsToArrow(items, schema, metaCols, this.manifest.dimension, this.manifest.numClasses);
  }

  async upsert(items: readonly ItemWithVectors[]): Promise<void> {
    if (items.length === 0) return;
    const data = await this.toArrow(items);
    const existing = new Set((await this.getItems(items.map((i) => i.id))).map((i) => i.id));
    try {
      if (existing.size === 0) {
        await this.table.add(data); // the common case: new content, no join needed
      } else {
        await this.table.mergeInsert('id').whenMatchedUpdateAll().whenNotMatchedInsertAll().execute(data);
      }
    } finally {
      this.wrote();
    }
  }

  async insert(items: readonly ItemWithVectors[]): Promise<void> {
    if (items.length > 0) await this.table.add(await this.toArrow(items)).finally(() => this.wrote());
  }

  /** Removes items from the items table (their rows in embedding spaces are the spaces' to remove). */
  async deleteItems(ids: readonly string[]): Promise<void> {
    for (let i = 0; i < ids.length; i += 500) {
      await this.table.delete(`id IN (${idList(ids.slice(i, i + 500))})`).finally(() => this.wrote());
    }
  }

  async metaColumns(): Promise<Record<string, MetaColumnType>> {
    const schema = await this.table.schema();
    const out: Record<string, MetaColumnType> = {};
    for (const f of schema.fields) {
      if (CORE_COLUMN_SET.has(f.name)) continue;
      out[f.name] = arrow.DataType.isUtf8(f.type) || arrow.DataType.isLargeUtf8(f.type) ? 'string' : 'number';
    }
    return out;
  }

  async ensureMetaColumns(columns: Record<string, MetaColumnType>): Promise<void> {
    const have = await this.metaColumns();
    const add = Object.entries(columns)
      .filter(([name]) => !(name in have) && !CORE_COLUMN_SET.has(name))
      .map(([name, type]) => ({ name, valueSql: type === 'number' ? 'CAST(NULL AS DOUBLE)' : 'CAST(NULL AS STRING)' }));
    if (add.length > 0) await this.table.addColumns(add).finally(() => this.wrote());
  }
}
