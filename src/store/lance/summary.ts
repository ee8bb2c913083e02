import type { StoredItem } from '../types.js';
import type { Arrow, LanceDB } from './arrow.js';
import type { Flat, FlatCache, Follower } from './flat-cache.js';
import { copyItem, rowToItem } from './records.js';
import { SUMMARY_COLUMNS } from './schema.js';

/**
 * The summary columns of every row, in the vectors' row order, held beside the vectors in
 * memory: item records for a page of results without a LanceDB read. Once read, they are kept
 * up with appended rows by the vectors' reads (see Follower).
 */
export class SummaryCache implements Follower {
  /** Summary columns of every row, for the version the vectors are of (null: rows out of step). */
  private summary: { version: number; rows: Promise<Arrow.Table | null> } | null = null;
  /** The summary rows once read, and the version of the vectors they are aligned with. */
  private held: { version: number; rows: Arrow.Table } | null = null;
  /** Items decoded from the summary rows, each once (by row; filled as asked; kept while rows are only appended). */
  private decoded: { rows: Arrow.Table; items: Array<StoredItem | undefined> } | null = null;

  constructor(
    private readonly table: LanceDB.Table,
    private readonly flat: FlatCache,
    private readonly version: () => Promise<number>,
  ) {
    flat.follow(this);
  }

  /** Forgets what is held (the vectors are being reloaded, or the store closed). */
  clear(): void {
    this.summary = null;
    this.held = null;
    this.decoded = null;
  }

  wants(flat: Flat): readonly string[] | null {
    return this.held?.version === flat.version ? SUMMARY_COLUMNS : null;
  }

  extend(from: Flat, to: Flat, rows: Arrow.Table | null): void {
    const held = this.held;
    if (held?.version !== from.version) return this.clear();
    // The new rows' columns in the order of those held (concat() takes them by position).
    const all = rows ? held.rows.concat(rows.select(held.rows.schema.fields.map((f) => f.name))) : held.rows;
    this.held = { version: to.version, rows: all };
    this.summary = { version: to.version, rows: Promise.resolve(all) };
    // Items decoded so far stay decoded.
    if (this.decoded?.rows === held.rows && all !== held.rows)
      this.decoded = { rows: all, items: this.decoded.items.concat(new Array<undefined>(rows!.numRows)) };
  }

  reset(): void {
    this.clear();
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
    return this.byPosition(ids, async (flat, offsets) => {
      const all = await this.summaryRows(flat);
      if (all) return offsets.map((r) => all.get(r) as unknown as Record<string, unknown>);
      return this.table
        .takeOffsets(offsets)
        .select([...SUMMARY_COLUMNS])
        .toArray();
    });
  }

  /**
   * Whole rows (vectors too) read by position, when the vectors in memory belong to the current
   * version: the rows' own fragments only, where a filter on ids reads the id column of every
   * fragment first (a search by an indexed item asks for its row on every new version). Null
   * when it cannot be used.
   */
  async wholeRowsByPosition(ids: readonly string[]): Promise<Record<string, unknown>[] | null> {
    return this.byPosition(ids, (_flat, offsets) => this.table.takeOffsets(offsets).toArray());
  }

  /**
   * Rows read by their positions in the vectors held in memory, in table order, when those
   * vectors belong to the current version. Null when they do not, or when the rows read are not
   * the ones expected (positions follow the scan order the cache was read in; should that ever
   * differ, the caller scans instead).
   */
  private async byPosition(
    ids: readonly string[],
    read: (flat: Flat, offsets: number[]) => Promise<Record<string, unknown>[]>,
  ): Promise<Record<string, unknown>[] | null> {
    const flat = this.flat.current;
    if (!flat || ids.length > 1000 || flat.version !== (await this.version())) return null;
    const offsets = ids
      .map((id) => flat.rowOf.get(id))
      .filter((r): r is number => r !== undefined)
      .sort((a, b) => a - b);
    if (offsets.length === 0) return [];
    const rows = await read(flat, offsets);
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
      const summary = { version: flat.version, rows };
      this.summary = summary;
      rows.then(
        (tbl) => tbl && this.summary === summary && (this.held = { version: flat.version, rows: tbl }),
        () => this.summary === summary && (this.summary = null),
      );
    }
    return this.summary.rows;
  }
}
