import { analyze } from '../keyword-analysis.js';

/**
 * Keyword search in memory: BM25 over each item's search_text, with the analysis LanceDB's
 * full-text index applies (measured against it): split on anything but letters and digits,
 * drop tokens of 40 bytes or more, lower-case, stem (English), drop stop words, fold accents.
 * The same items match a simple word query; scores are BM25 but not LanceDB's to the bit.
 */

const K1 = 1.2;
const B = 0.75;

/** A BM25 index over documents numbered 0…n-1 (rows), built once per version of the items. */
export class KeywordIndex {
  /** term → (row → frequency). */
  private readonly postings = new Map<string, Map<number, number>>();
  private readonly lengths: Uint32Array;
  private readonly avgLength: number;

  constructor(texts: readonly string[]) {
    this.lengths = new Uint32Array(texts.length);
    let total = 0;
    texts.forEach((text, row) => {
      const terms = analyze(text);
      this.lengths[row] = terms.length;
      total += terms.length;
      for (const t of terms) {
        let p = this.postings.get(t);
        if (!p) this.postings.set(t, (p = new Map()));
        p.set(row, (p.get(row) ?? 0) + 1);
      }
    });
    this.avgLength = texts.length ? total / texts.length : 0;
  }

  /** Rows matching any term of the query, with their BM25 score, best first (ties: earlier row first), at most k; `admit` filters rows. */
  search(query: string, k: number, admit?: (row: number) => boolean): Array<{ row: number; score: number }> {
    const n = this.lengths.length;
    const scores = new Map<number, number>();
    for (const term of new Set(analyze(query))) {
      const p = this.postings.get(term);
      if (!p) continue;
      const idf = Math.log(1 + (n - p.size + 0.5) / (p.size + 0.5));
      for (const [row, tf] of p) {
        if (admit && !admit(row)) continue;
        const norm = tf + K1 * (1 - B + (B * this.lengths[row]!) / (this.avgLength || 1));
        scores.set(row, (scores.get(row) ?? 0) + (idf * tf * (K1 + 1)) / norm);
      }
    }
    return [...scores]
      .map(([row, score]) => ({ row, score: Math.fround(score) }))
      .sort((a, b) => b.score - a.score || a.row - b.row)
      .slice(0, k);
  }
}
