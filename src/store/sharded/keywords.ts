import { analyze } from '../keyword-analysis.js';
import type { VectorHit } from '../types.js';

/** LanceDB's BM25 constants (its full-text index's defaults). */
const K1 = 1.2;
const B = 0.75;

export interface CollectionTermStats {
  docs: number;
  totalLength: number;
  df: (term: string) => number;
}

/**
 * Keyword hits from every shard, re-scored with the whole collection's statistics: each shard's
 * BM25 uses its own IDF and average length, so a shard with few documents holding a word would
 * rank them above another shard's better ones. The shards' document frequencies, lengths and
 * counts add up to exactly those of one index of the same items, and BM25 is a sum over terms,
 * so each candidate's score becomes what one index would give it (to float rounding).
 */
export function rescoreKeywords(candidates: ReadonlyArray<{ id: string; text: string }>, query: string, stats: CollectionTermStats): VectorHit[] {
  const terms = [...new Set(analyze(query))];
  const avg = stats.docs ? stats.totalLength / stats.docs : 0;
  const idf = new Map(terms.map((t) => [t, Math.log(1 + (stats.docs - stats.df(t) + 0.5) / (stats.df(t) + 0.5))]));
  const out: VectorHit[] = [];
  for (const c of candidates) {
    const doc = analyze(c.text);
    const tf = new Map<string, number>();
    for (const t of doc) tf.set(t, (tf.get(t) ?? 0) + 1);
    let score = 0;
    for (const t of terms) {
      const f = tf.get(t);
      if (!f) continue;
      score += (idf.get(t)! * f * (K1 + 1)) / (f + K1 * (1 - B + (B * doc.length) / (avg || 1)));
    }
    if (score > 0) out.push({ id: c.id, score: Math.fround(score) });
  }
  return out;
}
