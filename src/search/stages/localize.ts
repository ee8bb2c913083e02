import type { DomainStages } from '../../domain/stages.js';
import { normalise } from '../../core/vector.js';
import type { QueryContext, Stage, StageState } from '../signal.js';
import { asks, domainQuery } from './query-object.js';

/**
 * Compares objects, not whole images: the query's object (found by localisation) against each
 * item's stored object features, in place of the whole-image cosine. Needs 'visor localize'.
 */
export class LocalizeStage implements Stage {
  readonly name = 'localize';

  constructor(
    private readonly data: () => Promise<DomainStages>,
    private readonly scoreMatrix: (query: Float32Array, matrix: Float32Array, rows: number) => Promise<Float32Array>,
  ) {}

  active(query: QueryContext['query']): boolean {
    return asks({ query }, this.name);
  }

  async prepare(ctx: QueryContext, state: StageState): Promise<void> {
    const { index, object } = await domainQuery(ctx, state, this.data);
    state.visualScores = await this.scoreMatrix(normalise(object.objectVector!), index.objectMatrix, index.ids.length);
  }
}
