import { CORE_COLUMN_SET } from '../columns.js';
import { checkItemIds, noProbabilities, wrongDimension } from '../errors.js';
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
import { scoreRows, topK } from './exact.js';
import { KeywordIndex } from './keywords.js';
import { CORE_FILTER_COLUMNS, LIST_COLUMNS, toRecord, toRows, type Row } from './rows.js';
import { MemorySideTable } from './side-table.js';
import { MemorySpaces } from './spaces.js';
import { compileWhere, type Predicate } from './where.js';

export interface MemoryStoreOptions {
  dimension: number;
  /** Class probabilities per item (0: the image model has no classifier). */
  numClasses: number;
  imageModel: string;
  /** How messages name the index (where the LanceDB store names its folder). */
  name?: string;
}

/** The items as of one version: what vectors() hands out, and what keywordRows' ids must be. */
interface Snapshot {
  version: number;
  ids: string[];
  rowOf: Map<string, number>;
  matrix: Float32Array;
  probs?: Float32Array;
  keywords?: KeywordIndex;
}

/**
 * The port in plain TypeScript, all in memory: no LanceDB, ONNX or sharp. It answers as the
 * LanceDB store does (search is always exact there, with its ranking and tie-breaking; filters
 * are a subset of its SQL; keyword scores are BM25 but not its to the bit), so ranking tests
 * run in milliseconds. Probabilities are kept at half precision, as LanceDB stores them.
 */
export class MemoryStore implements VectorStore {
  readonly manifest: Manifest;
  private readonly name: string;
  private rows: Row[] = [];
  private readonly catalogue: Record<string, MetaColumnType> = {};
  private writes = 1;
  private snap: Snapshot | null = null;
  private readonly filters = new Map<string, Predicate>();
  private readonly spaceSet: MemorySpaces;
  private readonly sides = new Map<string, MemorySideTable<SideSchema>>();

  constructor(opts: MemoryStoreOptions) {
    this.name = opts.name ?? 'memory';
    this.manifest = {
      format: 'visor-index',
      schemaVersion: 2,
      imageModel: opts.imageModel,
      dimension: opts.dimension,
      numClasses: opts.numClasses,
      createdAt: new Date().toISOString(),
      settings: {},
    };
    this.spaceSet = new MemorySpaces(this.manifest, this.name);
  }

  get dimension(): number {
    return this.manifest.dimension;
  }

  saveSettings(settings: Record<string, unknown>): void {
    this.manifest.settings = { ...this.manifest.settings, ...settings };
  }

  private wrote(): void {
    this.writes++;
  }

  /** The items as of now (built once per version). */
  private snapshot(): Snapshot {
    if (this.snap?.version === this.writes) return this.snap;
    const n = this.rows.length;
    const dim = this.dimension;
    const ids = this.rows.map((r) => r.item.id);
    const matrix = new Float32Array(n * dim);
    this.rows.forEach((r, i) => matrix.set(r.item.vector, i * dim));
    this.snap = { version: this.writes, ids, rowOf: new Map(ids.map((id, i) => [id, i])), matrix };
    return this.snap;
  }

  // --- Items ---

  async count(): Promise<number> {
    return this.rows.length;
  }

  async version(): Promise<number> {
    return this.writes;
  }

  async refresh(): Promise<void> {}

  async fileStates(): Promise<FileState[]> {
    return this.rows.flatMap(({ item }) =>
      item.paths.map((path, i) => ({ path, id: item.id, size: item.fileSizes[i] ?? -1, mtimeMs: item.fileMtimes[i] ?? -1 })),
    );
  }

  async getItems(ids: readonly string[]): Promise<StoredItem[]> {
    const { rowOf } = this.snapshot();
    return ids.flatMap((id) => {
      const r = rowOf.get(id);
      return r === undefined ? [] : [toRecord(this.rows[r]!)];
    });
  }

  async getItemsWithVectors(ids: readonly string[]): Promise<ItemWithVectors[]> {
    if (ids.length === 0) return [];
    checkItemIds(ids);
    const { rowOf } = this.snapshot();
    return ids.flatMap((id) => {
      const r = rowOf.get(id);
      if (r === undefined) return [];
      const row = this.rows[r]!;
      return [{ ...toRecord(row), vector: Float32Array.from(row.item.vector), probs: Float32Array.from(row.item.probs) }];
    });
  }

  async upsert(items: readonly ItemWithVectors[]): Promise<void> {
    if (items.length === 0) return;
    const rows = toRows(items, this.dimension, this.manifest.numClasses, this.catalogue);
    const replaced = new Set(items.map((i) => i.id));
    // Rewritten items move to the end, in the order given, as LanceDB's merge-insert leaves them.
    this.rows = [...this.rows.filter((r) => !replaced.has(r.item.id)), ...rows];
    this.wrote();
  }

  async insert(items: readonly ItemWithVectors[]): Promise<void> {
    if (items.length === 0) return;
    this.rows = [...this.rows, ...toRows(items, this.dimension, this.manifest.numClasses, this.catalogue)];
    this.wrote();
  }

  async deleteItems(ids: readonly string[]): Promise<void> {
    if (ids.length === 0) return;
    checkItemIds(ids);
    const gone = new Set(ids);
    this.rows = this.rows.filter((r) => !gone.has(r.item.id));
    this.wrote();
    this.spaceSet.deleteItems(ids);
  }

  async metaColumns(): Promise<Record<string, MetaColumnType>> {
    return { ...this.catalogue };
  }

  async ensureMetaColumns(columns: Record<string, MetaColumnType>): Promise<void> {
    const add = Object.entries(columns).filter(([name]) => !(name in this.catalogue) && !CORE_COLUMN_SET.has(name));
    if (add.length === 0) return;
    // Existing items get null, as a column LanceDB adds does.
    for (const [name, type] of add) this.catalogue[name] = type;
    this.filters.clear();
    this.wrote();
  }

  // --- Filters ---

  private predicate(where: string): Predicate {
    let p = this.filters.get(where);
    if (!p) {
      p = compileWhere(where, { ...CORE_FILTER_COLUMNS, ...this.catalogue }, Object.keys(this.catalogue), LIST_COLUMNS);
      this.filters.set(where, p);
    }
    return p;
  }

  async idsWhere(where: string): Promise<Set<string>> {
    const admit = this.predicate(where);
    return new Set(this.rows.filter((r) => admit(r.columns)).map((r) => r.item.id));
  }

  matchingIds(where: string): Promise<Set<string>> {
    return this.idsWhere(where);
  }

  // --- Vectors ---

  /** Exact top k as the exact kernel answers it: -Infinity bias for rows the filter or exclusions leave out. */
  private async exactTopK(queries: Float32Array, count: number, opts: VectorSearchOptions): Promise<BatchHits> {
    const snap = this.snapshot();
    const n = snap.ids.length;
    if (n === 0) return { count, k: 0, rows: new Int32Array(0), scores: new Float32Array(0), ids: snap.ids };
    const bias = new Float32Array(n);
    if (opts.where) {
      bias.fill(-Infinity);
      for (const id of await this.idsWhere(opts.where)) {
        const row = snap.rowOf.get(id);
        if (row !== undefined) bias[row] = 0;
      }
    }
    for (const id of opts.exclude ?? []) {
      const row = snap.rowOf.get(id);
      if (row !== undefined) bias[row] = -Infinity;
    }
    const top = topK(queries, count, snap.matrix, n, bias, opts.k);
    return { count, k: top.k, rows: top.rows, scores: top.scores, ids: snap.ids };
  }

  async search(query: Float32Array, opts: VectorSearchOptions): Promise<VectorHit[]> {
    if (query.length !== this.dimension) throw wrongDimension(query.length, this.dimension);
    const top = await this.exactTopK(query, 1, opts);
    const hits: VectorHit[] = [];
    for (let j = 0; j < top.k && top.scores[j] !== -Infinity; j++) hits.push({ id: top.ids[top.rows[j]!]!, score: top.scores[j]! });
    return hits;
  }

  searchMany(queries: Float32Array, count: number, opts: VectorSearchOptions): Promise<BatchHits> {
    return this.exactTopK(queries, count, opts);
  }

  async vectors(): Promise<{ ids: readonly string[]; matrix: Float32Array }> {
    const { ids, matrix } = this.snapshot();
    return { ids, matrix };
  }

  async probabilities(): Promise<{ ids: readonly string[]; matrix: Float32Array; classes: number }> {
    const snap = this.snapshot();
    const classes = this.manifest.numClasses;
    if (!snap.probs) {
      snap.probs = new Float32Array(snap.ids.length * classes);
      if (classes > 0) this.rows.forEach((r, i) => snap.probs!.set(r.item.probs, i * classes));
    }
    return { ids: snap.ids, matrix: snap.probs, classes };
  }

  async scoreAll(space: 'vector' | 'probs', queries: Float32Array, count: number): Promise<ScoredRows> {
    if (space === 'probs' && this.manifest.numClasses === 0) throw noProbabilities(this.name, this.manifest.imageModel);
    const m = space === 'vector' ? await this.vectors() : await this.probabilities();
    if (m.ids.length === 0) return { ids: m.ids, scores: new Float32Array(0) };
    return { ids: m.ids, scores: scoreRows(queries, count, m.matrix, m.ids.length) };
  }

  // --- Keywords ---

  private keywordIndex(): KeywordIndex {
    const snap = this.snapshot();
    snap.keywords ??= new KeywordIndex(this.rows.map((r) => r.searchText));
    return snap.keywords;
  }

  async keywordSearch(text: string, opts: { k: number; where?: string }): Promise<VectorHit[]> {
    if (!text.trim()) return [];
    const admit = opts.where ? this.predicate(opts.where) : undefined;
    const rows = this.rows;
    return this.keywordIndex()
      .search(text, opts.k, admit && ((row) => admit(rows[row]!.columns)))
      .map((h) => ({ id: rows[h.row]!.item.id, score: h.score }));
  }

  async keywordRows(text: string, k: number, ids: readonly string[]): Promise<KeywordRows | null> {
    const snap = this.snap;
    if (!snap || snap.ids !== ids) return null;
    if (!text.trim()) return { hits: 0, rows: new Int32Array(0), scores: new Float32Array(0) };
    // Hits in items written since `ids` was read find no row there and are left out.
    const hits = await this.keywordSearch(text, { k });
    const rows: number[] = [];
    const scores: number[] = [];
    for (const h of hits) {
      const row = snap.rowOf.get(h.id);
      if (row === undefined) continue;
      rows.push(row);
      scores.push(h.score);
    }
    return { hits: hits.length, rows: Int32Array.from(rows), scores: Float32Array.from(scores) };
  }

  // --- Upkeep ---

  /** Drops space vectors of items no longer stored (as LanceDB's optimize does); nothing else to compact. */
  async optimize(): Promise<void> {
    this.spaceSet.prune(new Set(this.rows.map((r) => r.item.id)));
  }

  async stats(): Promise<StoreStats> {
    return { items: this.rows.length, files: (await this.fileStates()).length, annIndex: null, metaColumns: await this.metaColumns(), version: this.writes };
  }

  // --- Side tables ---

  async sideTable<S extends SideSchema>(name: string, schema: S): Promise<SideTable<S>> {
    if (name === 'items') throw new Error('items is the items table');
    let t = this.sides.get(name);
    if (!t) this.sides.set(name, (t = new MemorySideTable<SideSchema>(schema)));
    return t as unknown as SideTable<S>;
  }

  async hasSideTable(name: string): Promise<boolean> {
    return this.sides.has(name);
  }

  // --- Further embedding spaces ---

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
    return this.spaceSet.score(name, query, () => this.snapshot().ids);
  }

  searchSpace(name: string, query: Float32Array, opts: VectorSearchOptions): Promise<VectorHit[]> {
    return this.spaceSet.search(name, query, opts, (where) => this.idsWhere(where));
  }

  async close(): Promise<void> {
    this.snap = null;
    this.filters.clear();
  }
}
