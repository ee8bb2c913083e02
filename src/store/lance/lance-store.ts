import type { VisorError } from '../../errors.js';
import { noProbabilities, wrongDimension } from '../errors.js';
import { writeManifest } from '../manifest.js';
import type { SideTable, VectorStore } from '../port.js';
import type {
  BatchHits,
  FileState,
  ItemWithVectors,
  KeywordRows,
  Manifest,
  MetaColumnType,
  ScoredRows,
  SideSchema,
  SpaceInfo,
  StoredItem,
  StoreStats,
  VectorHit,
  VectorSearchOptions,
} from '../types.js';
import { AnnIndex, type AnnSettings } from './ann.js';
import type { LanceDB } from './arrow.js';
import { filterError } from './filters.js';
import { FlatCache } from './flat-cache.js';
import { ItemTable } from './items.js';
import { LazyKernel } from './kernel.js';
import { Keywords } from './keywords.js';
import { openIndex, openItems, type LanceAt, type OpenIndexOptions } from './open.js';
import { ITEMS_TABLE } from './schema.js';
import { LanceSideTable } from './side-tables.js';
import { Spaces } from './spaces.js';
import type { CreatedElsewhere } from './tables.js';
import { storeStats } from './stats.js';
import { SummaryCache } from './summary.js';
import { TermStatsCache, type TermStats } from './term-stats.js';
import { TableVersion } from './version.js';
import { WhereCache } from './where-cache.js';

export { DEFAULT_ANN, type AnnSettings } from './ann.js';
export type { LanceAt } from './open.js';
export type { TermStats } from './term-stats.js';

export interface LanceStoreOptions extends OpenIndexOptions {
  ann?: Partial<AnnSettings>;
}

/**
 * The embedded store: one LanceDB table, one row per unique image content, in a folder with
 * the manifest, the embedding spaces' and the side tables. Each job is a part of its own
 * (see the files beside this one); this class wires them together behind the port (whose
 * interface documents each method).
 */
export class LanceStore implements VectorStore {
  private readonly clock: TableVersion;
  private readonly flat: FlatCache;
  private readonly summary: SummaryCache;
  private readonly items: ItemTable;
  private readonly ann: AnnIndex;
  private readonly keywords: Keywords;
  private readonly terms: TermStatsCache;
  private readonly spaceSet: Spaces;
  private readonly sideTables = new Set<LanceSideTable<SideSchema>>();
  private readonly whereCache: WhereCache;

  private constructor(
    readonly dir: string,
    private readonly db: LanceDB.Connection,
    private readonly table: LanceDB.Table,
    readonly manifest: Manifest,
    ann: Partial<AnnSettings> | undefined,
    /** Persists manifest changes: visor.json in the folder, or wherever the opener keeps it. */
    private readonly saveManifest: (m: Manifest) => void,
    /** The exact kernel: this store's own, or one its opener shares between stores (and closes). */
    private readonly kernel: LazyKernel = new LazyKernel(),
    /** The items table looked at for commits by the opener (see LanceAt.itemsCheckSeconds), on this connection. */
    private readonly check?: { seconds: number; db: LanceDB.Connection },
  ) {
    this.clock = new TableVersion(table, () => this.moved(), check ? check.seconds * 1000 : null);
    const version = () => this.clock.get();
    const wrote = () => this.clock.forget();
    this.flat = new FlatCache(table, manifest.dimension, manifest.numClasses, version, this.kernel);
    this.summary = new SummaryCache(table, this.flat, version);
    this.items = new ItemTable(table, manifest, this.summary, wrote);
    this.ann = new AnnIndex(table, version, wrote, ann);
    this.keywords = new Keywords(table, this.flat, (where, e) => this.filterError(where, e), wrote);
    this.terms = new TermStatsCache(table, version);
    this.whereCache = new WhereCache(table, () => this.metaColumns());
    this.spaceSet = new Spaces(dir, db, manifest, saveManifest, this.flat, this.kernel, this.ann.settings, (where) => this.idsWhere(where));
  }

  get dimension(): number {
    return this.manifest.dimension;
  }

  /**
   * The table has moved on: what is held of it (the vectors, and the page records and term
   * statistics that go with them) starts taking in the new rows now, beside whatever noticed —
   * a search, whose own reads (its query item's vector) go on meanwhile instead of before.
   */
  private moved(): void {
    if (this.flat.current) this.flat.get().catch(() => undefined);
    if (this.terms.held) this.terms.get().catch(() => undefined);
  }

  static async open(dir: string, opts: LanceStoreOptions): Promise<LanceStore> {
    const { db, table, manifest } = await openIndex(dir, opts);
    return new LanceStore(dir, db, table, manifest, opts.ann, (m) => writeManifest(dir, m));
  }

  /**
   * The store at a LanceDB URI (a folder or an object-store prefix) whose manifest the caller
   * holds and persists: e.g. one shard of a collection in object storage.
   */
  static async openAt(at: LanceAt, opts: { ann?: Partial<AnnSettings>; kernel?: LazyKernel } = {}): Promise<LanceStore> {
    const { db, table, itemsDb } = await openItems(at);
    const check = itemsDb ? { seconds: at.itemsCheckSeconds!, db: itemsDb } : undefined;
    return new LanceStore(at.uri, db, table, at.manifest, opts.ann, at.saveManifest, opts.kernel, check);
  }

  saveSettings(settings: Record<string, unknown>): void {
    this.manifest.settings = { ...this.manifest.settings, ...settings };
    this.saveManifest(this.manifest);
  }

  // --- Items ---

  async count(): Promise<number> {
    await this.clock.due();
    return this.items.count();
  }

  async version(): Promise<number> {
    return this.clock.get();
  }

  async refresh(): Promise<void> {
    await this.clock.check();
  }

  async fileStates(): Promise<FileState[]> {
    await this.clock.due();
    return this.items.fileStates();
  }

  async getItems(ids: readonly string[]): Promise<StoredItem[]> {
    await this.clock.due();
    return this.items.getItems(ids);
  }

  async getItemsWithVectors(ids: readonly string[]): Promise<ItemWithVectors[]> {
    await this.clock.due();
    return this.items.getItemsWithVectors(ids);
  }

  upsert(items: readonly ItemWithVectors[]): Promise<void> {
    return this.items.upsert(items);
  }

  insert(items: readonly ItemWithVectors[]): Promise<void> {
    return this.items.insert(items);
  }

  async deleteItems(ids: readonly string[]): Promise<void> {
    await this.items.deleteItems(ids);
    // Then from every embedding space; rows a crash leaves behind are dropped by optimize().
    await this.spaceSet.deleteItems(ids);
  }

  async metaColumns(): Promise<Record<string, MetaColumnType>> {
    await this.clock.due();
    return this.items.metaColumns();
  }

  ensureMetaColumns(columns: Record<string, MetaColumnType>): Promise<void> {
    return this.items.ensureMetaColumns(columns);
  }

  // --- Filters ---

  private filterError(where: string, e: unknown): Promise<VisorError> {
    return filterError(where, e, () => this.metaColumns());
  }

  async idsWhere(where: string): Promise<Set<string>> {
    return this.whereCache.get(where, await this.clock.get());
  }

  matchingIds(where: string): Promise<Set<string>> {
    return this.idsWhere(where);
  }

  // --- Vectors ---

  async search(query: Float32Array, opts: VectorSearchOptions): Promise<VectorHit[]> {
    if (query.length !== this.dimension) throw wrongDimension(query.length, this.dimension);
    await this.clock.due();
    const ann = opts.exact ? null : await this.ann.info();
    if (ann) return this.ann.search(query, opts, (where, e) => this.filterError(where, e));
    const top = await this.flat.topK(query, 1, opts, (where) => this.idsWhere(where));
    const hits: VectorHit[] = [];
    for (let j = 0; j < top.k && top.scores[j] !== -Infinity; j++) hits.push({ id: top.ids[top.rows[j]!]!, score: top.scores[j]! });
    return hits;
  }

  searchMany(queries: Float32Array, count: number, opts: VectorSearchOptions): Promise<BatchHits> {
    return this.flat.topK(queries, count, opts, (where) => this.idsWhere(where));
  }

  async vectors(): Promise<{ ids: readonly string[]; matrix: Float32Array }> {
    const flat = await this.flat.get();
    return { ids: flat.ids, matrix: flat.matrix };
  }

  probabilities(): Promise<{ ids: readonly string[]; matrix: Float32Array; classes: number }> {
    return this.flat.probabilities();
  }

  async scoreAll(space: 'vector' | 'probs', queries: Float32Array, count: number): Promise<ScoredRows> {
    if (space === 'probs' && this.manifest.numClasses === 0) throw noProbabilities(this.dir, this.manifest.imageModel);
    const m = space === 'vector' ? await this.vectors() : await this.probabilities();
    if (m.ids.length === 0) return { ids: m.ids, scores: new Float32Array(0) };
    return { ids: m.ids, scores: await (await this.kernel.get()).scoreAll(queries, count, m.matrix, m.ids.length) };
  }

  // --- Keywords ---

  async keywordSearch(text: string, opts: { k: number; where?: string }): Promise<VectorHit[]> {
    await this.clock.due();
    return this.keywords.search(text, opts);
  }

  async keywordRows(text: string, k: number, ids: readonly string[]): Promise<KeywordRows | null> {
    await this.clock.due();
    return this.keywords.rows(text, k, ids);
  }

  /** keywordSearch's hits with their search_text: a sharded store re-scores them with the whole collection's statistics. */
  async keywordCandidates(text: string, opts: { k: number; where?: string }): Promise<Array<{ id: string; score: number; text: string }>> {
    await this.clock.due();
    return this.keywords.candidates(text, opts);
  }

  /** BM25's statistics of this store's items (documents, total length, document frequency per term). */
  termStats(): Promise<TermStats> {
    return this.terms.get();
  }

  /** Whether vector searches are answered from an approximate index now. */
  async annActive(): Promise<boolean> {
    return (await this.ann.info()) !== null;
  }

  // --- Upkeep ---

  async optimize(): Promise<void> {
    // LanceDB 0.30 (lance-index 7.0.0) can panic merging a full-text index after rows were
    // updated or deleted (lance issues #7313, #8310): the text index is rebuilt from scratch
    // instead of merged. Short texts make that cheap; keyword search meanwhile scans unindexed.
    const text = await this.keywords.indexName();
    if (text) await this.keywords.dropIndex(text);
    // Keep ten minutes of old versions: a reader may still be on one.
    await this.table.optimize({ cleanupOlderThan: new Date(Date.now() - 10 * 60_000) }).finally(() => this.clock.forget());
    const n = await this.table.countRows();
    if (n > 0) await this.keywords.buildIndex();
    if (n >= this.ann.settings.threshold && !(await this.ann.info())) await this.ann.build();
    await this.spaceSet.optimize();
  }

  /** (Re)builds the approximate index over the vectors now stored. */
  buildAnnIndex(): Promise<void> {
    return this.ann.build();
  }

  /** Changes query-time ANN settings (nprobes, ef, refine) for later searches. */
  tuneAnn(settings: Partial<Pick<AnnSettings, 'nprobes' | 'ef' | 'refineFactor'>>): void {
    this.ann.tune(settings);
  }

  async stats(): Promise<StoreStats> {
    await this.clock.due();
    return storeStats(this.items, this.ann, () => this.version());
  }

  // --- Side tables ---

  /**
   * Another table in the same database folder (see side-tables.ts); where another node creates
   * it (a shard of a collection, see sharded/table-claims.ts), waited for instead of created.
   */
  async sideTable<S extends SideSchema>(name: string, schema: S, elsewhere?: CreatedElsewhere): Promise<SideTable<S>> {
    if (name === ITEMS_TABLE) throw new Error(`${ITEMS_TABLE} is the items table`);
    const table = await LanceSideTable.open(this.db, name, schema, elsewhere);
    this.sideTables.add(table as unknown as LanceSideTable<SideSchema>);
    return table;
  }

  async hasSideTable(name: string): Promise<boolean> {
    return (await this.db.tableNames()).includes(name);
  }

  // --- Further embedding spaces (e.g. CLIP beside MobileNetV2), one table each ---

  spaces(): Array<SpaceInfo & { name: string }> {
    return this.spaceSet.list();
  }

  ensureSpace(name: string, info: Omit<SpaceInfo, 'createdAt'>): Promise<void> {
    return this.spaceSet.ensure(name, info);
  }

  addSpaceVectors(name: string, ids: readonly string[], matrix: Float32Array): Promise<void> {
    return this.spaceSet.add(name, ids, matrix);
  }

  spaceIds(name: string): Promise<Set<string>> {
    return this.spaceSet.ids(name);
  }

  scoreSpace(name: string, query: Float32Array): Promise<ScoredRows> {
    return this.spaceSet.score(name, query);
  }

  searchSpace(name: string, query: Float32Array, opts: VectorSearchOptions): Promise<VectorHit[]> {
    return this.spaceSet.search(name, query, opts);
  }

  async close(): Promise<void> {
    await this.spaceSet.close();
    for (const t of this.sideTables) t.close();
    this.sideTables.clear();
    this.flat.clear();
    this.summary.clear();
    this.whereCache.clear();
    this.terms.clear();
    if (!this.kernel.shared) await this.kernel.close();
    this.table.close();
    this.check?.db.close();
    this.db.close();
  }
}
