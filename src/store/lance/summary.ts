import type { StoredItem } from '../types.js';
import type { Arrow, LanceDB } from './arrow.js';
import type { Flat, FlatCache } from './flat-cache.js';
import { copyItem, rowToItem } from './records.js';
import { SUMMARY_COLUMNS } from './schema.js';

/**
 * The summary columns of every row, in the vectors' row order, held beside the vectors in
 * memory: item records for a page of results without a LanceDB read.
 */
export class SummaryCache {
  /** Summary columns of every row, for the version the vectors are of (null: rows out of step). */
  private summary: { version: number; rows: Promise<Arrow.Table | null> } | null = null;
  /** Items decoded from the summary rows, each once per table version (by row; filled as asked). */
  private decoded: { rows: Arrow.Table; items: Array<StoredItem | undefined> } | null = null;

  constructor(
    private readonly table: LanceDB.Table,
    private readonly flat: FlatCache,
    private readonly version: () => Promise<number>,
  ) {}

  /** Forgets what is held (the vectors are being reloaded, or the store closed). */
  clear(): void {
    this.summary = null;
    this.decoded = null;
  }

  /**
   * The items from the summary rows in memory, when the vectors in memory belong to the current
   * version: each row is decoded (Arrow row, JSON of its meta) once per version, not on every
   * page of results. Copies are returned, so callers may change them. Null when it cannot be used.
   */
  async heldItems(ids: readonly string[]): Promise<StoredItem[] | null> {
    const flat = this.flat.current;
    if (!flat || ids.length > 1000 || flat.version !== (await this.version())) return null;
    const all = await this.summaryRows(flat);
    if (!all) return null;
    if (this.decoded?.rows !== all) this.decoded = { rows: all, items: new Array<StoredItem | undefined>(all.numRows) };
    const items = this.decoded.items;
    const out: StoredItem[] = [];
    for (const id of ids) {
      const r = flat.rowOf.get(id);
      if (r === undefined) continue;
      const it = (items[r] ??= rowToItem(all.get(r) as unknown as Record<string, unknown>));
      out.push(copyItem(it));
    }
    return out;
  }

  /**
   * Summary rows read by position when the vectors in memory belong to the current version (the
   * ids were found there): a direct read instead of a filtered scan of every row, which a
   * server hydrating each page of results would otherwise pay. Null when it cannot be used.
   */
  async takeByPosition(ids: readonly string[]): Promise<Record<string, unknown>[] | null> {
    const flat = this.flat.current;
    if (!flat || ids.length > 1000 || flat.version !== (await this.version())) return null;
    // Rows come back in table order.
    const offsets = ids
      .map((id) => flat.rowOf.get(id))
      .filter((r): r is number => r !== undefined)
      .sort((a, b) => a - b);
    if (offsets.length === 0) return [];
    const all = await this.summaryRows(flat);
    if (all) return offsets.map((r) => all.get(r) as unknown as Record<string, unknown>);
    const rows = await this.table
      .takeOffsets(offsets)
      .select([...SUMMARY_COLUMNS])
      .toArray();
    // Positions follow the scan order the cache was read in; should that ever differ, scan instead.
    return rows.length === offsets.length && rows.every((r, i) => String(r.id) === flat.ids[offsets[i]!]) ? rows : null;
  }

  /**
   * The summary columns of every row, read in one scan per table version and kept (a few hundred
   * bytes a row, beside the 5 KB of its vector in memory): a server hydrates a page of results on
   * every search, and reading 24 rows from memory costs a tenth of a LanceDB read. Null when the
   * scan's rows are not those of the vectors in memory (a write came between).
   */
  private summaryRows(flat: Flat): Promise<Arrow.Table | null> {
    if (this.summary?.version !== flat.version) {
      const rows = (async () => {
        const tbl = (await this.table
          .query()
          .select([...SUMMARY_COLUMNS])
          .toArrow()) as unknown as Arrow.Table;
        if (tbl.numRows !== flat.ids.length) return null;
        const ids = tbl.getChild('id')!;
        for (let r = 0; r < tbl.numRows; r++) if (ids.get(r) !== flat.ids[r]) return null;
        return tbl;
      })();
      this.summary = { version: flat.version, rows };
      rows.catch(() => this.summary?.rows === rows && (this.summary = null));
    }
    return this.summary.rows;
  }
}
