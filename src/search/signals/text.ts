import type { Contribution, MatchReason, QueryContext, Signal, SignalOutcome } from '../signal.js';

/**
 * A reader of words: scores every item for some words (null when none of them means anything
 * to it). `weight` multiplies the query's weight for the signal: how far it trusts its reading
 * of these particular words (a model trained on sentences, given one word).
 */
export interface WordScorer {
  score(words: string[], ids: readonly string[]): Promise<{ scores: Float32Array; note?: string; floor?: number; weight?: number } | null>;
  explain?(words: string[], row: number): Promise<MatchReason[string]>;
}

/**
 * A signal that reads the query's words through a scorer: visual concepts, a trained joint
 * model, a vision–language model's text tower. Negative words are scored by the same reader.
 */
export class TextSignal implements Signal {
  readonly readsText = true;

  constructor(
    readonly name: string,
    private readonly scorer: WordScorer,
  ) {}

  async score(ctx: QueryContext): Promise<SignalOutcome | null> {
    const terms = ctx.text.positive;
    if (terms.length === 0 || ctx.weights[this.name] === 0) return null; // nothing to read, or switched off by the caller
    const r = await this.scorer.score(terms, ctx.ids);
    return {
      contributions: r
        ? [{ name: this.name, scores: r.scores, weight: ctx.weights[this.name]! * (r.weight ?? 1), polarity: 1, floor: r.floor, depth: ctx.ids.length }]
        : [],
      report: { name: this.name, understood: r !== null, note: r?.note },
    };
  }

  async scoreNegative(ctx: QueryContext, term: string): Promise<Contribution | null> {
    const r = await this.scorer.score([term], ctx.ids);
    return r && { name: 'negative', label: `-${term}`, scores: r.scores, weight: ctx.weights.negative!, polarity: -1, floor: r.floor, depth: 200 };
  }

  async explain(ctx: QueryContext, row: number, outcome: SignalOutcome): Promise<unknown> {
    if (outcome.contributions.length === 0 || !this.scorer.explain) return undefined;
    return this.scorer.explain(ctx.text.positive, row);
  }
}
