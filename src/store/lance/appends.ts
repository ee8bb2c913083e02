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
  /** A filter admitting exactly them (a read with it fetches only their fragments). */
  filter: string;
  /** Their row ids, in table order. */
  rowIds: bigint[];
}

/** Attempts at reading one version before giving up (a commit seen mid-read each time). */
const TRIES = 3;

/** The mark of a snapshot of every row, read with their row ids. */
export function markOf(all: Arrow.Table): Mark {
  const col = all.getChild('_rowid');
  const halves = col ? rowIdHalves(col) : new Uint32Array(0);
  let fragment = -1;
  for (let i = 1; i < halves.length; i += 2) if (halves[i]! > fragment) fragment = halves[i]!;
  return { rows: all.numRows, fragment };
}

/**
 * What `read` makes of the rows appended since `mark`, and the mark after them, all of one table
 * version; null when rows the mark covers have changed since (deleted, updated, compacted: the
 * caller reads everything again), or when `read` gives up (returns null). The table can move on
 * between two calls (its read-consistency check), so the version is compared before and after.
 */
export async function readAppended<T>(
  table: LanceDB.Table,
  mark: Mark,
  read: (appended: Appended) => Promise<T | null>,
): Promise<{ value: T; mark: Mark } | null> {
  const filter = `_rowid >= ${BigInt(mark.fragment + 1) << 32n}`;
  for (let i = 0; i < TRIES; i++) {
    const version = await table.version();
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
    const changed = all.numRows - rowIds.length !== mark.rows;
    const value = changed ? null : await read({ count: rowIds.length, filter, rowIds });
    if ((await table.version()) !== version) continue;
    if (changed || value === null) return null;
    return { value, mark: { rows: all.numRows, fragment } };
  }
  return null;
}

/**
 * `read`'s result and the mark of the table version it read (null where commits kept coming
 * mid-read: the next read then reads everything): for reads whose rows do not tell the mark
 * themselves (a filter's).
 */
export async function readMarked<T>(table: LanceDB.Table, read: () => Promise<T>): Promise<{ value: T; mark: Mark | null }> {
  let value!: T;
  for (let i = 0; i < TRIES; i++) {
    const version = await table.version();
    value = await read();
    const ids = (await table.query().select([]).withRowId().toArrow()) as unknown as Arrow.Table;
    if ((await table.version()) === version) return { value, mark: markOf(ids) };
  }
  return { value, mark: null };
}
