import { matchedWords, words } from '../../text/words.js';
import type { Contribution, QueryContext, Signal, SignalOutcome } from '../signal.js';

/** Keyword hits considered per query term. */
const MAX_HITS = 2000;

/** The query's words in file names and catalogue text, by BM25 (the store's full-text index). */
export class KeywordSignal implements Signal {
  readonly name = 'keywords';
  readonly readsText = true;

  async score(ctx: QueryContext): Promise<SignalOutcome | null> {
    const terms = ctx.text.positive;
    if (terms.length === 0) return null;
    const kw = ctx.weights.keywords === 0 ? null : await keywordScores(ctx, terms);
    return {
      contributions: kw ? [{ name: 'keywords', scores: kw, weight: ctx.weights.keywords!, polarity: 1, floor: 0 }] : [],
      report: { name: 'keywords', understood: kw !== null, note: kw ? undefined : 'no file name or catalogue field contains these words' },
    };
  }

  async scoreNegative(ctx: QueryContext, term: string): Promise<Contribution | null> {
    const kw = await keywordScores(ctx, [term]);
    return kw && { name: 'negative', label: `-${term}`, scores: kw, weight: ctx.weights.negative!, polarity: -1, floor: 0 };
  }

  explain(
    ctx: QueryContext,
    row: number,
    outcome: SignalOutcome,
    item: { path: string; meta: Record<string, unknown> },
  ): { score: number; words: string[] } | undefined {
    const kw = outcome.contributions[0];
    if (!kw || !(kw.scores[row]! > 0)) return undefined;
    const text = [item.path.split('/').pop() ?? item.path, ...Object.values(item.meta).filter((v) => typeof v === 'string')].join(' ');
    return {
      score: kw.scores[row]!,
      words: matchedWords(
        ctx.text.positive.flatMap(words).filter((w) => w.length > 1),
        text,
      ),
    };
  }
}

/** BM25 score per row of `ctx.ids` (0 where a term is absent), or null when nothing matches. */
async function keywordScores(ctx: QueryContext, terms: string[]): Promise<Float32Array | null> {
  const { store, ids } = ctx;
  const n = ids.length;
  const byRow = await store.keywordRows(terms.join(' '), Math.min(n, MAX_HITS), ids);
  if (byRow) {
    if (byRow.hits === 0) return null;
    const s = new Float32Array(n);
    for (let i = 0; i < byRow.rows.length; i++) s[byRow.rows[i]!] = byRow.scores[i]!;
    return s;
  }
  const hits = await store.keywordSearch(terms.join(' '), { k: Math.min(n, MAX_HITS) });
  if (hits.length === 0) return null;
  const s = new Float32Array(n);
  for (const h of hits) {
    const r = ctx.rowOf.get(h.id);
    if (r !== undefined) s[r] = h.score;
  }
  return s;
}
