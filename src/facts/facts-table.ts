import { FACT_STAGES, type FactStage, type ImageFacts } from '../core/facts.js';
import type { SideTable, VectorStore } from '../store/port.js';
import type { SideSchema } from '../store/types.js';

/**
 * The `facts` side table: per item id, its ImageFacts as JSON (one string column, so a new
 * field or stage needs no change of schema). Like the other side tables it sits beside the
 * items, which stay untouched: indexes made before facts existed open and search as they did.
 * Rows of items since removed are ignored when read and pruned when the facts pass runs.
 */
export const FACTS_TABLE = 'facts';
const SCHEMA = { facts: 'string' } as const satisfies SideSchema;
type Table = SideTable<typeof SCHEMA>;

export interface FactsRow {
  id: string;
  facts: ImageFacts;
}

/** The store roles the table needs: its side table, and the live item ids to leave removed items out. */
export type FactsStore = Pick<VectorStore, 'sideTable' | 'hasSideTable' | 'version' | 'vectors'>;

/**
 * The facts of the given stages only: the fields of other stages left out (and the colours of
 * object boxes when the colours stage is not among them). A stage switched off keeps its stored
 * facts, and readers see them only once it is switched on again.
 */
export function onlyStages(facts: ImageFacts, stages: readonly FactStage[]): ImageFacts {
  const out: ImageFacts = { stages: {}, width: facts.width, height: facts.height };
  for (const s of stages) if (facts.stages[s] !== undefined) out.stages[s] = facts.stages[s];
  if (out.stages.objects !== undefined && facts.objects) {
    out.objects = out.stages.colours !== undefined ? facts.objects : facts.objects.map(({ colours: _, ...d }) => d);
  }
  if (out.stages.colours !== undefined && facts.colours) out.colours = facts.colours;
  if (out.stages.text !== undefined && facts.text) out.text = facts.text;
  if (out.stages.faces !== undefined && facts.faces) out.faces = facts.faces;
  return out;
}

export class FactsTable {
  private rows: { version: number; rows: Map<string, ImageFacts> } | null = null;
  private cache: { key: string; all: Map<string, ImageFacts> } | null = null;
  private readonly views = new Map<string, { key: string; view: Map<string, ImageFacts> }>();

  private constructor(
    private readonly store: FactsStore,
    private table: Table | null,
  ) {}

  /** Opens the table when it exists; none is created until something is written. */
  static async open(store: FactsStore): Promise<FactsTable> {
    return new FactsTable(store, (await store.hasSideTable(FACTS_TABLE)) ? await store.sideTable(FACTS_TABLE, SCHEMA) : null);
  }

  /** The table, when it exists now (another process may have created it since open). */
  private async existing(): Promise<Table | null> {
    if (!this.table && (await this.store.hasSideTable(FACTS_TABLE))) this.table = await this.store.sideTable(FACTS_TABLE, SCHEMA);
    return this.table;
  }

  /** Changes with every write to the table (0 while it does not exist). */
  async version(): Promise<number> {
    return (await (await this.existing())?.version()) ?? 0;
  }

  /**
   * Every row as stored, removed items included: what the facts pass compares against. Parsed
   * once per version of the table; shared with other callers: read it, never change it.
   */
  async stored(): Promise<ReadonlyMap<string, ImageFacts>> {
    const table = await this.existing();
    if (!table) return new Map();
    const version = await table.version();
    if (this.rows?.version !== version) {
      const { ids, facts } = await table.read(['facts']);
      this.rows = { version, rows: new Map(ids.map((id, i) => [id, JSON.parse(facts[i]!) as ImageFacts])) };
    }
    return this.rows.rows;
  }

  /**
   * Item id → facts, for every item of the index that has some (removed items left out),
   * limited to `stages` when given (see onlyStages). Read and parsed once per version of the
   * table and of the items: the map is shared with other callers, read it and never change it.
   */
  async all(stages?: readonly FactStage[]): Promise<ReadonlyMap<string, ImageFacts>> {
    const key = `${await this.version()}:${await this.store.version()}`;
    if (this.cache?.key !== key) {
      const live = new Set((await this.store.vectors()).ids);
      const all = new Map<string, ImageFacts>();
      for (const [id, f] of await this.stored()) if (live.has(id)) all.set(id, f);
      this.cache = { key, all };
      this.views.clear();
    }
    if (!stages || FACT_STAGES.every((s) => stages.includes(s))) return this.cache.all;
    const vkey = [...stages].sort().join(',');
    let v = this.views.get(vkey);
    if (v?.key !== key) {
      v = { key, view: new Map([...this.cache.all].map(([id, f]) => [id, onlyStages(f, stages)])) };
      this.views.set(vkey, v);
    }
    return v.view;
  }

  /** The facts of these ids (those that have some), limited to `stages` when given. */
  async get(ids: readonly string[], stages?: readonly FactStage[]): Promise<Map<string, ImageFacts>> {
    const all = await this.all(stages);
    const out = new Map<string, ImageFacts>();
    for (const id of ids) {
      const f = all.get(id);
      if (f) out.set(id, f);
    }
    return out;
  }

  /** Inserts or replaces rows by id, in one write. */
  async put(rows: readonly FactsRow[]): Promise<void> {
    if (rows.length === 0) return;
    this.table ??= await this.store.sideTable(FACTS_TABLE, SCHEMA);
    await this.table.put(rows.map((r) => ({ id: r.id, facts: JSON.stringify(r.facts) })));
  }

  async delete(ids: readonly string[]): Promise<void> {
    const table = await this.existing();
    if (table && ids.length > 0) await table.delete(ids);
  }

  /** Deletes the rows of items no longer in the index; how many. */
  async prune(live: ReadonlySet<string>): Promise<number> {
    const table = await this.existing();
    if (!table) return 0;
    const gone = (await table.read([])).ids.filter((id) => !live.has(id));
    await this.delete(gone);
    return gone.length;
  }

  close(): void {
    this.table?.close();
    this.table = null;
    this.rows = null;
    this.cache = null;
    this.views.clear();
  }
}
