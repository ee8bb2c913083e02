import type { DomainStages } from '../../domain/stages.js';
import { DEFAULT_RERANK, rerankBySilhouette, type RerankOptions } from '../../domain/rerank.js';
import type { Candidate, QueryContext, Stage, StageState } from '../signal.js';
import { asks, domainQuery } from './query-object.js';

/** Re-ranks the head by silhouette overlap with the query's object (docs/domain.md). Needs 'visor localize'. */
export class RerankStage implements Stage {
  readonly name = 'rerank';

  constructor(private readonly data: () => Promise<DomainStages>) {}

  active(query: QueryContext['query']): boolean {
    return asks({ query }, this.name);
  }

  private options(ctx: QueryContext): RerankOptions {
    const o = ctx.query.stages?.rerank;
    return typeof o === 'object' ? (o as RerankOptions) : {};
  }

  depth(ctx: QueryContext): number {
    return this.options(ctx).depth ?? DEFAULT_RERANK.depth;
  }

  async prepare(ctx: QueryContext, state: StageState): Promise<void> {
    await domainQuery(ctx, state, this.data);
  }

  async rerank(ctx: QueryContext, candidates: Candidate[], state: StageState): Promise<void> {
    const { index, object } = await domainQuery(ctx, state, this.data);
    if (!object.localization?.found) return;
    const scored: Array<{ row: number; score: number; cosine: number; iou?: number }> = candidates.map((c) => ({
      row: c.row,
      score: c.score,
      cosine: c.score - (state.rowBonus?.[c.row] ?? 0),
    }));
    rerankBySilhouette(scored, object.localization.mask.bits, index.masks, index.maskBytes, index.hasMask, this.options(ctx));
    const why = new Map(candidates.map((c) => [c.row, c.why]));
    candidates.splice(
      0,
      candidates.length,
      ...scored.map((s) => ({ row: s.row, score: s.score, why: { ...why.get(s.row), iou: s.iou, featureScore: s.cosine } })),
    );
  }
}
