import type { MetaColumnType } from '../types.js';
import { readMarked, type Appended } from './appends.js';
import type { Arrow, LanceDB } from './arrow.js';
import { whereIds } from './filters.js';
import { Tracked } from './tracked.js';

/** Appended rows a filter is run on by their row ids; past this many, on every row again. */
const LISTED_ROWS = 2000;

/**
 * The ids a filter admits, kept per table version: a catalogue's screens repeat the same few
 * filters, and on object storage each would otherwise be a scan of the shard over the network.
 * When rows were only appended, the filter runs on them alone (see Tracked). The sets are
 * shared between callers, who read them and never change them.
 */
export class WhereCache {
  private readonly entries = new Map<string, Tracked<Set<string>>>();

  constructor(
    private readonly table: LanceDB.Table,
    private readonly metaColumns: () => Promise<Record<string, MetaColumnType>>,
    private readonly size = 32,
  ) {}

  get(where: string, version: number): Promise<Set<string>> {
    let entry = this.entries.get(where);
    // Most recently used last, so the oldest is evicted first.
    if (entry) this.entries.delete(where);
    entry ??= new Tracked(this.table, {
      all: () => readMarked(this.table, () => whereIds(this.table, where, this.metaColumns)),
      appended: (held, a) => this.appended(where, held, a),
    });
    this.entries.set(where, entry);
    if (this.entries.size > this.size) this.entries.delete(this.entries.keys().next().value!);
    const ids = entry.get(version);
    // A filter that failed (invalid SQL) is not kept: the next call reports it again.
    ids.catch(() => this.entries.get(where) === entry && this.entries.delete(where));
    return ids;
  }

  /** `held` and the appended rows the filter admits (null: run it on every row instead). */
  private async appended(where: string, held: Set<string>, a: Appended): Promise<Set<string> | null> {
    if (a.count === 0) return held;
    if (a.count > LISTED_ROWS) return null;
    // By row ids the filter reads only the new rows' fragments (with `_rowid >=`, it would read
    // every fragment). The filter on lines of its own: a trailing comment cannot swallow the parenthesis.
    const rows = (await this.table
      .query()
      .where(`_rowid IN (${a.rowIds.join(', ')}) AND (\n${where}\n)`)
      .select(['id'])
      .toArrow()
      .catch(() => null)) as unknown as Arrow.Table | null;
    if (!rows) return null;
    const ids = new Set(held);
    const col = rows.getChild('id');
    for (let r = 0; r < rows.numRows; r++) ids.add(String(col!.get(r)));
    return ids;
  }

  clear(): void {
    this.entries.clear();
  }
}
