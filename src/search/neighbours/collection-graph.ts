import type { VectorStore } from '../../store/port.js';
import { NeighboursStage, type RerankDefaults } from '../stages/neighbours.js';
import { fillGraph, type GraphFillOptions, type GraphFillSummary } from './graph-fill.js';
import { GraphTable } from './graph-table.js';
import { GRAPH_K } from './knn-graph.js';
import { rerankDefaults, saveRerankDefaults, wantsGraph } from './settings.js';

/**
 * A collection's neighbour graph and the re-ranking stage that reads it: what Collection
 * delegates to (its index and remove runs refresh the graph; its searches run the stage).
 */
export class CollectionGraph {
  private table: Promise<GraphTable> | null = null;
  readonly stage: NeighboursStage;

  constructor(private readonly store: VectorStore) {
    this.stage = new NeighboursStage({
      defaults: () => rerankDefaults(this.store),
      graph: async (ids) => (await this.graphTable()).rowsFor(ids),
    });
  }

  private graphTable(): Promise<GraphTable> {
    this.table ??= GraphTable.open(this.store, GRAPH_K);
    this.table.catch(() => (this.table = null));
    return this.table;
  }

  defaults(): RerankDefaults {
    return rerankDefaults(this.store);
  }

  /** Sets what queries re-rank with by default (image queries, word and composed ones); the graph is built on the next index run. */
  setDefaults(given: Partial<RerankDefaults>): RerankDefaults {
    return saveRerankDefaults(this.store, given);
  }

  /**
   * Brings the graph up to date with the items (after an index or remove run), when the
   * collection's defaults read it or it already exists; undefined when it keeps none.
   */
  async refresh(opts: GraphFillOptions & { force?: boolean } = {}): Promise<GraphFillSummary | undefined> {
    const has = (await (await this.graphTable()).version()) > 0;
    if (!opts.force && !has && !wantsGraph(this.defaults())) return undefined;
    return fillGraph(this.store, opts);
  }
}
