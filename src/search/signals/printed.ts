/**
 * Words printed in the images (the text the OCR stage read), searched by BM25 with the same
 * analysis as the keyword index (split, lower-case, stem, stop words). A quoted phrase matches
 * only where its words are read next to each other, in order, on one line. A loose word also
 * finds text read a letter or two off ("eeder" for "feeder": the reader lost a faint first
 * letter), at a lower score than the word read exactly (text/edit-distance.ts says how many edits).
 */
import type { ImageFacts } from '../../core/facts.js';
import { analyzeWords } from '../../store/keyword-analysis.js';
import { nearMatch } from '../../text/edit-distance.js';
import type { FactsView } from '../facts-source.js';
import type { Contribution, QueryContext, Signal, SignalOutcome } from '../signal.js';

const K1 = 1.2;
const B = 0.75;
/**
 * What a row scores, as a share of BM25, when the word is read as another form of it ("parks" for
 * "park": the same term) and when only a near miss of it is read ("eeder" for "feeder"): the
 * word as typed ranks first, then its other forms, then near misses.
 */
export const OTHER_FORM_WEIGHT = 0.8;
export const TYPO_WEIGHT = 0.5;

/** Each image's read text as terms, by line, with document frequencies. */
interface TextIndex {
  /** Per row: per line, its terms in order (empty for rows with no text). */
  lines: string[][][];
  /** Per row: its words as read (lower-case), each with how often it occurs. */
  words: Array<Map<string, number>>;
  length: Float32Array;
  avgLength: number;
  df: Map<string, number>;
  /** Every word read anywhere (what near misses are looked for in). */
  vocabulary: Set<string>;
  /** Rows whose text stage ran. */
  read: number;
  /** Per query word: the words read within its typo budget (filled as queries ask). */
  near: Map<string, string[]>;
}

const indexes = new WeakMap<ReadonlyArray<ImageFacts | undefined>, TextIndex>();

function textIndex(rows: ReadonlyArray<ImageFacts | undefined>): TextIndex {
  let ix = indexes.get(rows);
  if (ix) return ix;
  const df = new Map<string, number>();
  const vocabulary = new Set<string>();
  const length = new Float32Array(rows.length);
  const words: TextIndex['words'] = [];
  let read = 0;
  let total = 0;
  const lines = rows.map((f, i) => {
    if (f?.text) read++;
    const analysed = (f?.text ?? []).map((l) => analyzeWords(l.text));
    const ls = analysed.map((l) => l.map((w) => w.term));
    const counts = new Map<string, number>();
    for (const l of analysed) for (const w of l) counts.set(w.word, (counts.get(w.word) ?? 0) + 1);
    for (const w of counts.keys()) vocabulary.add(w);
    words.push(counts);
    const seen = new Set<string>();
    for (const l of ls) for (const t of l) seen.add(t);
    for (const t of seen) df.set(t, (df.get(t) ?? 0) + 1);
    length[i] = ls.reduce((a, l) => a + l.length, 0);
    total += length[i]!;
    return ls;
  });
  ix = { lines, words, length, avgLength: total / Math.max(1, read), df, vocabulary, read, near: new Map() };
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

/** The words read anywhere that are near misses of a query word (text/edit-distance.ts). */
function nearWords(ix: TextIndex, word: string): string[] {
  let near = ix.near.get(word);
  if (near) return near;
  near = [...ix.vocabulary].filter((v) => nearMatch(v, word));
  ix.near.set(word, near);
  return near;
}

function bm25(idf: number, n: number, length: number, avgLength: number): number {
  return (idf * n * (K1 + 1)) / (n + K1 * (1 - B + (B * length) / (avgLength || 1)));
}

const idfOf = (matched: number, read: number) => Math.log(1 + (read - matched + 0.5) / (matched + 0.5));

/** One unit of a query: a phrase's terms, or a loose word with its term. */
type Unit = { terms: string[]; word?: string };

function unitsOf(term: string): Unit[] {
  const words = analyzeWords(term);
  if (words.length === 0) return [];
  // A quoted phrase is one unit; loose words each count.
  if (/\s/.test(term.trim()) && words.length > 1) return [{ terms: words.map((w) => w.term) }];
  return words.map((w) => ({ terms: [w.term], word: w.word }));
}

/**
 * BM25 per row for the query's terms (a multi-word term is a phrase), or null when none is read
 * anywhere. A loose word scores in full where it is read as typed, OTHER_FORM_WEIGHT of that
 * where only another form of it is, and — with `typos` (the default) — TYPO_WEIGHT where only a
 * near miss of it is read.
 */
export function printedScores(rows: ReadonlyArray<ImageFacts | undefined>, terms: readonly string[], typos = true): Float32Array | null {
  const ix = textIndex(rows);
  if (ix.read === 0) return null;
  const scores = new Float32Array(rows.length);
  let any = false;
  for (const unit of terms.flatMap(unitsOf)) {
    const exact = unit.terms.every((w) => ix.df.has(w));
    const near = typos && unit.word !== undefined ? nearWords(ix, unit.word) : [];
    if (!exact && !near.length) continue;
    // One pass: a row holding the unit counts for it; a row holding only near misses counts for them.
    const tf = new Map<number, number>();
    const fuzzy = new Map<number, number>();
    for (let r = 0; r < rows.length; r++) {
      if (!ix.lines[r]!.length) continue;
      const n = exact ? occurrences(ix.lines[r]!, unit.terms) : 0;
      if (n) {
        tf.set(r, n);
        continue;
      }
      let m = 0;
      for (const v of near) m += ix.words[r]!.get(v) ?? 0;
      if (m) fuzzy.set(r, m);
    }
    if (tf.size) {
      any = true;
      const idf = idfOf(tf.size, ix.read);
      for (const [r, n] of tf)
        scores[r]! += (unit.word === undefined || ix.words[r]!.has(unit.word) ? 1 : OTHER_FORM_WEIGHT) * bm25(idf, n, ix.length[r]!, ix.avgLength);
    }
    if (fuzzy.size) {
      any = true;
      // Counted over the rows holding the word or a near miss: a near miss never weighs more than the word itself.
      const idf = idfOf(tf.size + fuzzy.size, ix.read);
      for (const [r, n] of fuzzy) scores[r]! += TYPO_WEIGHT * bm25(idf, n, ix.length[r]!, ix.avgLength);
    }
  }
  return any ? scores : null;
}

/** The text read in an image that holds a term ("'SALE'"), or a near miss of a word ("'EEDER' ≈ feeder"), for `why`. */
export function printedLines(f: ImageFacts | undefined, terms: readonly string[]): string[] {
  const query = terms.flatMap((t) => analyzeWords(t));
  const out: string[] = [];
  for (const l of f?.text ?? []) {
    const read = analyzeWords(l.text);
    if (read.some((r) => query.some((q) => q.term === r.term))) {
      out.push(`'${l.text}'`);
      continue;
    }
    const near = query.find((q) => read.some((r) => nearMatch(r.word, q.word)));
    if (near) out.push(`'${l.text}' ≈ ${near.word}`);
  }
  return out;
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
    // A negative word demotes only text read exactly: a near word is too weak a sign to push an image down.
    const scores = printedScores(await this.facts.rows(ctx.ids), [term], false);
    return scores && { name: 'negative', label: `-${term}`, scores, weight: ctx.weights.negative!, polarity: -1, floor: 0 };
  }

  async explain(ctx: QueryContext, row: number, outcome: SignalOutcome): Promise<string | undefined> {
    const c = outcome.contributions[0];
    if (!c || !(c.scores[row]! > 0)) return undefined;
    const lines = printedLines((await this.facts.rows(ctx.ids))[row], ctx.text.positive);
    return lines.length ? `text: ${lines.join(', ')}` : undefined;
  }
}
