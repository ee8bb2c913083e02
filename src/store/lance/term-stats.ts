import { analyze } from '../keyword-analysis.js';
import type { Arrow, LanceDB } from './arrow.js';

/** BM25's collection statistics of one table: documents, their total length in terms, and each term's document frequency. */
export interface TermStats {
  docs: number;
  totalLength: number;
  /** Documents holding each term (as keyword-analysis.ts writes terms). */
  df: Map<string, number>;
}

/**
 * The term statistics of the items' search_text, read in one scan per table version: what a
 * sharded store combines over its shards so keyword scores use the whole collection's IDF and
 * average length, as one index of the same items would.
 */
export class TermStatsCache {
  private held: { version: number; stats: Promise<TermStats> } | null = null;

  constructor(
    private readonly table: LanceDB.Table,
    private readonly version: () => Promise<number>,
  ) {}

  async get(): Promise<TermStats> {
    const version = await this.version();
    if (this.held?.version !== version) {
      const stats = this.scan();
      this.held = { version, stats };
      stats.catch(() => this.held?.stats === stats && (this.held = null));
    }
    return this.held.stats;
  }

  private async scan(): Promise<TermStats> {
    const tbl = (await this.table.query().select(['search_text']).toArrow()) as unknown as Arrow.Table;
    const df = new Map<string, number>();
    let totalLength = 0;
    for (const batch of tbl.batches) {
      const col = batch.getChild('search_text')!;
      for (let r = 0; r < batch.numRows; r++) {
        const terms = analyze(String(col.get(r) ?? ''));
        totalLength += terms.length;
        for (const t of new Set(terms)) df.set(t, (df.get(t) ?? 0) + 1);
      }
    }
    return { docs: tbl.numRows, totalLength, df };
  }

  clear(): void {
    this.held = null;
  }
}
