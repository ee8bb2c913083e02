/**
 * The neighbour graph's side table: one row per item, beside the items (for LanceDB, a table of
 * the index folder), so indexes made without it open and search as before. Neighbours are kept
 * as slots — a small integer per item, given when the item enters the graph and never reused —
 * rather than 32-character ids: 50 neighbours of a million items then take 400 MB, not 1.6 GB.
 * Slots are stored as float32, exact below 2^24 (a graph that would pass that is rebuilt).
 * One table per embedding space: `neighbours` for the main image features, `neighbours:<space>`.
 */
import type { SideTable, VectorStore } from '../../store/port.js';
import type { SideSchema } from '../../store/types.js';
import type { GraphRows } from './rerankers.js';

export const MAX_SLOT = 2 ** 24;

export function graphTableName(space?: string): string {
  return space ? `neighbours:${space}` : 'neighbours';
}

function schema(k: number) {
  return { slot: 'float32', neighbours: { vector: k }, sims: { vector: k } } as const satisfies SideSchema;
}
type Table = SideTable<ReturnType<typeof schema>>;

export type GraphStore = Pick<VectorStore, 'sideTable' | 'hasSideTable'>;

/** The graph as stored: per item, its slot and its neighbours' slots (−1 pads) and cosines. */
export interface StoredGraph {
  k: number;
  ids: string[];
  slots: Int32Array;
  /** ids.length × k neighbour slots. */
  neighbours: Int32Array;
  sims: Float32Array;
}

export interface GraphRowWrite {
  id: string;
  slot: number;
  neighbours: Int32Array;
  sims: Float32Array;
}

export class GraphTable {
  private cache: { version: number; graph: StoredGraph } | null = null;
  private readonly views = new WeakMap<readonly string[], { version: number; rows: GraphRows }>();

  private constructor(
    private readonly store: GraphStore,
    private readonly name: string,
    private readonly k: number,
    private table: Table | null,
  ) {}

  static async open(store: GraphStore, k: number, space?: string): Promise<GraphTable> {
    const name = graphTableName(space);
    return new GraphTable(store, name, k, (await store.hasSideTable(name)) ? await store.sideTable(name, schema(k)) : null);
  }

  private async existing(): Promise<Table | null> {
    if (!this.table && (await this.store.hasSideTable(this.name))) this.table = await this.store.sideTable(this.name, schema(this.k));
    return this.table;
  }

  /** 0 while the table does not exist; changes with every write. */
  async version(): Promise<number> {
    return (await (await this.existing())?.version()) ?? 0;
  }

  /** Every stored row (read once per version of the table); null when there is no graph yet. */
  async read(): Promise<StoredGraph | null> {
    const table = await this.existing();
    if (!table) return null;
    const version = await table.version();
    if (this.cache?.version !== version) {
      const { ids, slot, neighbours, sims } = await table.read(['slot', 'neighbours', 'sims']);
      this.cache = { version, graph: { k: this.k, ids, slots: Int32Array.from(slot), neighbours: Int32Array.from(neighbours), sims } };
    }
    return this.cache.graph;
  }

  /**
   * The graph over a snapshot's rows (row i = ids[i]), what the re-rankers read: neighbours that
   * are no longer stored, and items not yet in the graph, have none. Null when there is no graph.
   */
  async rowsFor(ids: readonly string[]): Promise<GraphRows | null> {
    const version = await this.version();
    if (version === 0) return null;
    const hit = this.views.get(ids);
    if (hit?.version === version) return hit.rows;
    const g = await this.read();
    if (!g) return null;
    const rowOf = new Map(ids.map((id, i) => [id, i]));
    const rowOfSlot = new Map<number, number>();
    g.ids.forEach((id, i) => {
      const r = rowOf.get(id);
      if (r !== undefined) rowOfSlot.set(g.slots[i]!, r);
    });
    const k = g.k;
    const rows = new Int32Array(ids.length * k).fill(-1);
    const sims = new Float32Array(ids.length * k);
    g.ids.forEach((id, i) => {
      const r = rowOf.get(id);
      if (r === undefined) return;
      let j = 0;
      for (let e = 0; e < k; e++) {
        const nb = rowOfSlot.get(g.neighbours[i * k + e]!);
        if (nb === undefined) continue;
        rows[r * k + j] = nb;
        sims[r * k + j] = g.sims[i * k + e]!;
        j++;
      }
    });
    const view = { k, rows, sims };
    this.views.set(ids, { version, rows: view });
    return view;
  }

  /** Writes rows (inserted or replaced by id) and removes others, in batches. */
  async write(rows: readonly GraphRowWrite[], remove: readonly string[]): Promise<void> {
    const table = this.table ?? (this.table = await this.store.sideTable(this.name, schema(this.k)));
    if (remove.length) await table.delete(remove);
    for (let i = 0; i < rows.length; i += 20_000)
      await table.put(rows.slice(i, i + 20_000).map((r) => ({ id: r.id, slot: r.slot, neighbours: Float32Array.from(r.neighbours), sims: r.sims })));
  }
}
