/**
 * Words printed in the images (the text the OCR stage read), searched by BM25 with the same
 * analysis as the keyword index (split, lower-case, stem, stop words). A quoted phrase matches
 * only where its words are read next to each other, in order, on one line.
 */
import type { ImageFacts } from '../../core/facts.js';
import { analyze } from '../../store/keyword-analysis.js';
import type { FactsView } from '../facts-source.js';
import type { Contribution, QueryContext, Signal, SignalOutcome } from '../signal.js';

const K1 = 1.2;
const B = 0.75;

/** Each image's read text as terms, by line, with document frequencies. */
interface TextIndex {
  /** Per row: per line, its terms in order (empty for rows with no text). */
  lines: string[][][];
  length: Float32Array;
  avgLength: number;
  df: Map<string, number>;
  /** Rows whose text stage ran. */
  read: number;
}

const indexes = new WeakMap<ReadonlyArray<ImageFacts | undefined>, TextIndex>();

function textIndex(rows: ReadonlyArray<ImageFacts | undefined>): TextIndex {
  let ix = indexes.get(rows);
  if (ix) return ix;
  const df = new Map<string, number>();
  const length = new Float32Array(rows.length);
  let read = 0;
  let total = 0;
  const lines = rows.map((f, i) => {
    if (f?.text) read++;
    const ls = (f?.text ?? []).map((l) => analyze(l.text));
    const seen = new Set<string>();
    for (const l of ls) for (const t of l) seen.add(t);
    for (const t of seen) df.set(t, (df.get(t) ?? 0) + 1);
    length[i] = ls.reduce((a, l) => a + l.length, 0);
    total += length[i]!;
    return ls;
  });
  ix = { lines, length, avgLength: total / Math.max(1, read), df, read };
  indexes.set(rows, ix);
  return ix;
}

/** Occurrences in one row's lines of a phrase (its terms in order, adjacent). */
function occurrences(lines: readonly string[][], phrase: readonly string[]): number {
  let n = 0;
  for (const l of lines) {
    for (let i = 0; i + phrase.length <= l.length; i++) {
      let ok = true;
      for (let j = 0; j < phrase.length && ok; j++) ok = l[i + j] === phrase[j];
      if (ok) n++;
    }
  }
  return n;
}

/** BM25 per row for the query's terms (a multi-word term is a phrase), or null when none is read anywhere. */
export function printedScores(rows: ReadonlyArray<ImageFacts | undefined>, terms: readonly string[]): Float32Array | null {
  const ix = textIndex(rows);
  if (ix.read === 0) return null;
  const scores = new Float32Array(rows.length);
  let any = false;
  for (const term of terms) {
    const words = analyze(term);
    if (words.length === 0) continue;
    // A quoted phrase is one unit; loose words each count.
    const units = /\s/.test(term.trim()) && words.length > 1 ? [words] : words.map((w) => [w]);
    for (const unit of units) {
      const tf = new Map<number, number>();
      for (let r = 0; r < rows.length; r++) {
        if (!ix.lines[r]!.length || !unit.every((w) => ix.df.has(w))) continue;
        const n = occurrences(ix.lines[r]!, unit);
        if (n) tf.set(r, n);
      }
      if (tf.size === 0) continue;
      any = true;
      const idf = Math.log(1 + (ix.read - tf.size + 0.5) / (tf.size + 0.5));
      for (const [r, n] of tf) scores[r]! += (idf * n * (K1 + 1)) / (n + K1 * (1 - B + (B * ix.length[r]!) / (ix.avgLength || 1)));
    }
  }
  return any ? scores : null;
}

/** The text read in an image that holds a term ("SALE"), for `why`. */
export function printedLines(f: ImageFacts | undefined, terms: readonly string[]): string[] {
  const words = new Set(terms.flatMap((t) => analyze(t)));
  return (f?.text ?? []).filter((l) => analyze(l.text).some((w) => words.has(w))).map((l) => l.text);
}

/** Its weight in fusion unless a query says otherwise. */
export const PRINTED_WEIGHT = 1;

export class PrintedTextSignal implements Signal {
  readonly name = 'printed';
  readonly readsText = true;

  constructor(
    private readonly facts: FactsView,
    readonly defaultWeight = PRINTED_WEIGHT,
  ) {}

  async score(ctx: QueryContext): Promise<SignalOutcome | null> {
    const terms = ctx.text.positive;
    if (terms.length === 0 || ctx.weights[this.name] === 0) return null;
    const rows = await this.facts.rows(ctx.ids);
    const scores = printedScores(rows, terms);
    if (!scores && !rows.some((f) => f?.text)) return null; // no text stage ran: nothing to say
    return {
      contributions: scores ? [{ name: this.name, scores, weight: ctx.weights[this.name]!, polarity: 1, floor: 0 }] : [],
      report: { name: this.name, understood: scores !== null, note: scores ? undefined : 'no image has these words printed in it' },
    };
  }

  async scoreNegative(ctx: QueryContext, term: string): Promise<Contribution | null> {
    const scores = printedScores(await this.facts.rows(ctx.ids), [term]);
    return scores && { name: 'negative', label: `-${term}`, scores, weight: ctx.weights.negative!, polarity: -1, floor: 0 };
  }

  async explain(ctx: QueryContext, row: number, outcome: SignalOutcome): Promise<string | undefined> {
    const c = outcome.contributions[0];
    if (!c || !(c.scores[row]! > 0)) return undefined;
    const lines = printedLines((await this.facts.rows(ctx.ids))[row], ctx.text.positive);
    return lines.length ? `text: ${lines.map((l) => `'${l}'`).join(', ')}` : undefined;
  }
}
