import type { KeywordRows, VectorHit } from '../types.js';
import { lancedb, rowIdHalves, type Arrow, type LanceDB } from './arrow.js';
import type { FlatCache } from './flat-cache.js';
import { analyze } from '../keyword-analysis.js';

/** Keyword search: LanceDB's full-text (BM25) index over search_text. */
export class Keywords {
  constructor(
    private readonly table: LanceDB.Table,
    private readonly flat: FlatCache,
    /** A filter LanceDB refused, in the user's terms. */
    private readonly filterError: (where: string, e: unknown) => Promise<Error>,
    private readonly wrote: () => void,
  ) {}

  /**
   * Keyword search (BM25, English stemming, stop words and accents folded) over file names
   * and catalogue text. Scores are BM25: comparable within one query only.
   */
  async search(text: string, opts: { k: number; where?: string }): Promise<VectorHit[]> {
    // A query of stop words only has no term to match (and LanceDB 0.30 fails on it while some rows are not yet in the text index).
    if (analyze(text).length === 0) return [];
    let q = this.table.query().fullTextSearch(text, { columns: 'search_text' }).select(['id', '_score']).limit(opts.k);
    if (opts.where) q = q.where(opts.where);
    try {
      // Column by column: a word common to a large collection matches thousands of rows, and
      // row objects would cost more than the search itself (a server answers many of these).
      const tbl = (await q.toArrow()) as unknown as Arrow.Table;
      const out: VectorHit[] = [];
      for (const batch of tbl.batches) {
        const ids = batch.getChild('id')!;
        const scores = batch.getChild('_score')!.toArray() as Float32Array;
        for (let r = 0; r < batch.numRows; r++) out.push({ id: String(ids.get(r)), score: scores[r]! });
      }
      return out;
    } catch (e) {
      if (opts.where) throw await this.filterError(opts.where, e);
      throw e;
    }
  }

  /** search()'s hits with the text they matched (what a sharded store re-scores with the whole collection's statistics). */
  async candidates(text: string, opts: { k: number; where?: string }): Promise<Array<{ id: string; score: number; text: string }>> {
    if (analyze(text).length === 0) return [];
    let q = this.table.query().fullTextSearch(text, { columns: 'search_text' }).select(['id', 'search_text', '_score']).limit(opts.k);
    if (opts.where) q = q.where(opts.where);
    try {
      const rows = await q.toArray();
      return rows.map((r) => ({ id: String(r.id), score: Number(r._score), text: String(r.search_text ?? '') }));
    } catch (e) {
      if (opts.where) throw await this.filterError(opts.where, e);
      throw e;
    }
  }

  /**
   * search()'s scores as rows of `ids` (vectors().ids): LanceDB returns row ids instead of
   * item ids, which saves reading the id column of every hit (about a third of a search's cost
   * at 2,000 hits). A row id names one stored row for good (fragments are never renumbered), so
   * a hit in a row written after the vectors were read finds no row here and is left out, as an
   * unknown id would be. Null when `ids` is not the current vector cache (the caller maps ids).
   */
  async rows(text: string, k: number, ids: readonly string[]): Promise<KeywordRows | null> {
    const flat = this.flat.current;
    if (!flat || flat.ids !== ids) return null;
    if (analyze(text).length === 0) return { hits: 0, rows: new Int32Array(0), scores: new Float32Array(0) };
    const q = this.table.query().fullTextSearch(text, { columns: 'search_text' }).select(['_score']).withRowId().limit(k);
    const tbl = (await q.toArrow()) as unknown as Arrow.Table;
    const rows = new Int32Array(tbl.numRows);
    const scores = new Float32Array(tbl.numRows);
    let at = 0;
    let frag = -1;
    let offsets: Int32Array | undefined;
    for (const batch of tbl.batches) {
      const halves = rowIdHalves(batch.getChild('_rowid')!);
      const s = batch.getChild('_score')!.toArray() as Float32Array;
      for (let r = 0; r < s.length; r++) {
        const f = halves[2 * r + 1]!;
        if (f !== frag) offsets = flat.rowOfRowId.get((frag = f));
        const row = offsets?.[halves[2 * r]!] ?? -1;
        if (row < 0) continue;
        rows[at] = row;
        scores[at++] = s[r]!;
      }
    }
    return { hits: tbl.numRows, rows: rows.subarray(0, at), scores: scores.subarray(0, at) };
  }

  /** The full-text index's name, if there is one. */
  async indexName(): Promise<string | undefined> {
    return (await this.table.listIndices()).find((i) => i.columns.includes('search_text'))?.name;
  }

  /** Drops the full-text index (see LanceStore.optimize). */
  async dropIndex(name: string): Promise<void> {
    await this.table.dropIndex(name).finally(() => this.wrote());
  }

  /** (Re)builds the full-text index over every row. */
  async buildIndex(): Promise<void> {
    await this.table
      .createIndex('search_text', {
        config: lancedb.Index.fts({ stem: true, language: 'English', removeStopWords: true, lowercase: true, asciiFolding: true, withPosition: false }),
        replace: true,
      })
      .finally(() => this.wrote());
  }
}
