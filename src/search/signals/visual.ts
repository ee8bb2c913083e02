import type { SearchStore } from '../store.js';
import type { Contribution, QueryContext, Signal, SignalOutcome } from '../signal.js';

/**
 * Looks like the query images (and liked items): the cosine of every item with the visual query
 * vector, in the main image features or the query's embedding space. Images to avoid, given
 * with words but nothing to look like, push resembling items down.
 */
export class VisualSignal implements Signal {
  readonly name = 'visual';

  async score(ctx: QueryContext): Promise<SignalOutcome | null> {
    const { toward, away, space } = ctx.encoded;
    const n = ctx.ids.length;
    const contributions: Contribution[] = [];
    // A composed query replaces this signal: the reference is part of it.
    const looks = toward && !ctx.composeText ? (ctx.stageState.visualScores ?? (await cosines(ctx, toward, space))) : null;
    if (looks) contributions.push({ name: 'visual', scores: looks, weight: ctx.weights.visual!, polarity: 1, depth: n });
    if (away) {
      const against = await cosines(ctx, away, space);
      contributions.push({ name: 'negative', label: 'images to avoid', scores: against, weight: ctx.weights.negative!, polarity: -1, floor: 0.6, depth: 200 });
    }
    if (contributions.length === 0) return null;
    return { contributions, report: looks ? { name: 'visual', understood: true } : undefined };
  }

  explain(_ctx: QueryContext, row: number, outcome: SignalOutcome): number | undefined {
    return outcome.contributions.find((c) => c.name === 'visual')?.scores[row];
  }
}

/** Items with no vector in a further space score this: below any cosine, no evidence. */
const MISSING = -2;

async function cosines(ctx: QueryContext, query: Float32Array, space: string | undefined): Promise<Float32Array> {
  if (space === undefined) return (await ctx.store.scoreAll('vector', query, 1)).scores;
  return alignedSpaceScores(ctx.store, ctx.ids, space, query);
}

/** A further space's cosines in the order of `ctx.ids` (items missing from the space: MISSING). */
export async function alignedSpaceScores(
  store: Pick<SearchStore, 'scoreSpace'>,
  ids: readonly string[],
  space: string,
  query: Float32Array,
): Promise<Float32Array> {
  const r = await store.scoreSpace(space, query);
  let scores = r.scores;
  if (r.ids !== ids) {
    // Another snapshot of the table than the caller's: align by id.
    const rowOf = new Map(r.ids.map((id, i) => [id, i]));
    scores = Float32Array.from(ids, (id) => {
      const row = rowOf.get(id);
      return row === undefined ? NaN : r.scores[row]!;
    });
  }
  return scores.map((x) => (Number.isNaN(x) ? MISSING : x));
}
