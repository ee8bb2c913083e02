import { VisorError } from '../../errors.js';
import type { DomainStages } from '../../domain/stages.js';
import { chooseCategories, NARROW_BONUS, type NarrowOptions } from '../../domain/narrow.js';
import type { FeatureRows } from '../../classify/features.js';
import type { Candidate, QueryContext, Stage, StageState } from '../signal.js';
import { asks, domainQuery } from './query-object.js';

const chosenRows = new WeakMap<StageState, { bonus: Float32Array; categoryOf: Int32Array; categories: string[]; chosen: Set<number> }>();

/**
 * Category narrowing: the query image's predicted categories are searched first, the rest
 * after (a bonus larger than any cosine gap orders the tiers; docs/domain.md). Needs the
 * collection categorised ('visor categorize').
 */
export class NarrowStage implements Stage {
  readonly name = 'narrow';

  constructor(private readonly data: () => Promise<DomainStages>) {}

  active(query: QueryContext['query']): boolean {
    return asks({ query }, this.name);
  }

  async prepare(ctx: QueryContext, state: StageState): Promise<void> {
    const d = await this.data();
    const predictor = await d.predictor();
    if (!predictor)
      throw new VisorError('QUERY_INVALID', "the collection has no categories: run 'visor categorize --model <file>' first (or search without --narrow)");
    const { index, object: q } = await domainQuery(ctx, state, this.data);
    const mirrored: FeatureRows | undefined = q.mirror && { count: 1, features: q.mirror.vector, probs: q.mirror.probs };
    const probs = predictor.predict({ count: 1, features: q.vector, probs: q.probs }, mirrored);
    const opts = ctx.query.stages?.narrow;
    const choice = chooseCategories(probs, predictor.categories, typeof opts === 'object' ? (opts as NarrowOptions) : {});
    const names = choice.chosen.map((c) => predictor.categories[c]!);
    const chosen = names.map((name) => index.categories.indexOf(name)).filter((i) => i >= 0);
    const want = new Set(chosen);
    const bonus = new Float32Array(index.ids.length);
    index.categoryOf.forEach((c, r) => {
      if (c >= 0 && want.has(c)) bonus[r] = NARROW_BONUS;
    });
    chosenRows.set(state, { bonus, categoryOf: index.categoryOf, categories: index.categories, chosen: want });
    state.rowBonus = bonus;
    state.report.categories = choice.predicted;
    state.report.searchedFirst = names;
  }

  async bias(_ctx: QueryContext, fused: Float32Array, state: StageState): Promise<void> {
    const { bonus } = chosenRows.get(state)!;
    for (let r = 0; r < fused.length; r++) if (bonus[r] && fused[r] !== -Infinity) fused[r]! += bonus[r]!;
  }

  /** Last of the stages: the bonus ordered the tiers; the score shown is the similarity alone. */
  async rerank(_ctx: QueryContext, candidates: Candidate[], state: StageState): Promise<void> {
    const { bonus, categoryOf, categories, chosen } = chosenRows.get(state)!;
    for (const c of candidates) {
      const cat = categoryOf[c.row]!;
      c.score -= bonus[c.row]!;
      c.why = { ...c.why, category: cat >= 0 ? categories[cat] : undefined, inChosenCategory: cat >= 0 && chosen.has(cat) };
    }
  }
}
