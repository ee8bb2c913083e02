import { rowIdHalves, type Arrow, type LanceDB } from './arrow.js';

/**
 * Where a snapshot read from a table stands, so that the next read takes only the rows appended
 * after it. LanceDB appends rows in new fragments, numbered after every fragment there ever was,
 * and a row id is its fragment's number · 2³² + its offset there (see rowIdHalves). Every other
 * change to rows takes some out of the fragments a snapshot read: a delete marks them deleted,
 * an update deletes them and appends their new version, a compaction moves them to new fragments.
 */
export interface Mark {
  /** Rows the snapshot holds. */
  rows: number;
  /** The last fragment it holds rows of (-1: none). */
  fragment: number;
}

/** The rows appended after a mark, as readAppended hands them to its reader. */
export interface Appended {
  /** How many. */
  count: number;
  /** A filter admitting them, and no others as long as only appends follow (a read with it fetches only their fragments). */
  filter: string;
  /** Their row ids, in table order. */
  rowIds: bigint[];
}

/** Appended rows named one by one in the filter up to this many; past it, all rows of later fragments. */
const LISTED = 2000;

/** The mark of a snapshot of every row, read with their row ids. */
export function markOf(all: Arrow.Table): Mark {
  const col = all.getChild('_rowid');
  const halves = col ? rowIdHalves(col) : new Uint32Array(0);
  let fragment = -1;
  for (let i = 1; i < halves.length; i += 2) if (halves[i]! > fragment) fragment = halves[i]!;
  return { rows: all.numRows, fragment };
}

/** Whether a read's rows (with their `_rowid` column) are exactly the appended rows, in order. */
export function sameRows(tbl: Arrow.Table, appended: Appended): boolean {
  if (tbl.numRows !== appended.count) return false;
  const col = tbl.getChild('_rowid');
  if (!col) return appended.count === 0;
  const halves = rowIdHalves(col);
  return appended.rowIds.every((id, r) => id === ((BigInt(halves[2 * r + 1]!) << 32n) | BigInt(halves[2 * r]!)));
}

/**
 * What `read` makes of the rows appended since `mark`, and the mark after them; null when rows
 * the mark covers have changed since (deleted, updated, compacted: the caller reads everything
 * again), or when `read` gives up (returns null). The table may move on before `read` reads:
 * the reader checks it got the rows listed (sameRows), so that what it holds is the table as of
 * the listing, whose changes the next read then finds.
 */
export async function readAppended<T>(
  table: LanceDB.Table,
  mark: Mark,
  read: (appended: Appended) => Promise<T | null>,
): Promise<{ value: T; mark: Mark } | null> {
  // Every row id, which reads no data: the fragments' row counts and deletions are in the table's metadata.
  const all = (await table.query().select([]).withRowId().toArrow()) as unknown as Arrow.Table;
  const halves = all.numRows ? rowIdHalves(all.getChild('_rowid')!) : new Uint32Array(0);
  const rowIds: bigint[] = [];
  let fragment = mark.fragment;
  for (let r = 0; r < all.numRows; r++) {
    const f = halves[2 * r + 1]!;
    if (f <= mark.fragment) continue;
    rowIds.push((BigInt(f) << 32n) | BigInt(halves[2 * r]!));
    if (f > fragment) fragment = f;
  }
  // Rows the mark covers are all still there (they can only have been taken away).
  if (all.numRows - rowIds.length !== mark.rows) return null;
  const filter = rowIds.length === 0 ? 'false' : rowIds.length <= LISTED ? `_rowid IN (${rowIds.join(', ')})` : `_rowid >= ${BigInt(mark.fragment + 1) << 32n}`;
  const value = await read({ count: rowIds.length, filter, rowIds });
  return value === null ? null : { value, mark: { rows: all.numRows, fragment } };
}

/**
 * `read`'s result, and the mark of the table as listed just before it: for reads whose rows do
 * not tell the mark themselves (a filter's). Rows committed while `read` runs may be in its
 * result too; the next read from the mark reads them again, or finds them gone.
 */
export async function readMarked<T>(table: LanceDB.Table, read: () => Promise<T>): Promise<{ value: T; mark: Mark }> {
  const ids = (await table.query().select([]).withRowId().toArrow()) as unknown as Arrow.Table;
  return { value: await read(), mark: markOf(ids) };
}
