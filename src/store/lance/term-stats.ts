import { analyze } from '../keyword-analysis.js';
import { markOf, sameRows, type Appended, type Mark } from './appends.js';
import type { Arrow, LanceDB } from './arrow.js';
import { Tracked } from './tracked.js';

/** BM25's collection statistics of one table: documents, their total length in terms, and each term's document frequency. */
export interface TermStats {
  docs: number;
  totalLength: number;
  /** Documents holding each term (as keyword-analysis.ts writes terms). */
  df: Map<string, number>;
}

/**
 * The term statistics of the items' search_text, kept per table version (appended rows are
 * counted in, anything else counts every row again: see Tracked): what a sharded store combines
 * over its shards so keyword scores use the whole collection's IDF and average length, as one
 * index of the same items would.
 */
export class TermStatsCache {
  private readonly tracked: Tracked<TermStats>;

  constructor(
    private readonly table: LanceDB.Table,
    private readonly version: () => Promise<number>,
  ) {
    this.tracked = new Tracked(table, { all: () => this.readAll(), appended: (held, a) => this.readAppended(held, a) });
  }

  /** Whether statistics were read (and are kept up). */
  get held(): boolean {
    return this.tracked.latest !== null;
  }

  async get(): Promise<TermStats> {
    return this.tracked.get(await this.version());
  }

  private async readAll(): Promise<{ value: TermStats; mark: Mark }> {
    const tbl = (await this.table.query().select(['search_text']).withRowId().toArrow()) as unknown as Arrow.Table;
    return { value: count(tbl, { docs: 0, totalLength: 0, df: new Map() }), mark: markOf(tbl) };
  }

  private async readAppended(held: TermStats, appended: Appended): Promise<TermStats | null> {
    if (appended.count === 0) return held;
    const tbl = (await this.table.query().where(appended.filter).select(['search_text']).withRowId().toArrow()) as unknown as Arrow.Table;
    if (!sameRows(tbl, appended)) return null;
    // A copy: the statistics held may be in use.
    return count(tbl, { docs: held.docs, totalLength: held.totalLength, df: new Map(held.df) });
  }

  clear(): void {
    this.tracked.clear();
  }
}

/** `into` with the documents of `tbl`'s search_text column counted in. */
function count(tbl: Arrow.Table, into: TermStats): TermStats {
  for (const batch of tbl.batches) {
    const col = batch.getChild('search_text')!;
    for (let r = 0; r < batch.numRows; r++) {
      const terms = analyze(String(col.get(r) ?? ''));
      into.totalLength += terms.length;
      for (const t of new Set(terms)) into.df.set(t, (into.df.get(t) ?? 0) + 1);
    }
  }
  into.docs += tbl.numRows;
  return into;
}
