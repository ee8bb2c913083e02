import fs from 'node:fs';
import { createRequire } from 'node:module';
import type * as LanceDB from '@lancedb/lancedb';
import type * as Arrow from 'apache-arrow';
import { VisorError, errorMessage } from '../errors.js';
import { CORE_COLUMNS, CORE_COLUMN_SET } from './columns.js';
import type { ExactKernel } from './exact-kernel.js';
import { float16ToFloat32, float32ToFloat16 } from './float16.js';
import { readManifest, SCHEMA_VERSION, writeManifest, type Manifest } from './manifest.js';
import { SEARCH_TEXT_SQL, searchTextFor } from './search-text.js';
import { SpaceTable, type SpaceInfo } from './space-table.js';
import type {
  BatchHits,
  FileState,
  ItemWithVectors,
  MetaColumnType,
  MetaRecord,
  StoredItem,
  StoreStats,
  VectorHit,
  VectorSearchOptions,
  VectorStore,
} from './types.js';

// Both are CommonJS packages: required directly, they skip the ESM wrapper's export scan.
// This is also the copy of Arrow LanceDB itself loads, so its instanceof checks hold.
const require = createRequire(import.meta.url);
const arrow = require('apache-arrow') as typeof Arrow;
const lancedb = require('@lancedb/lancedb') as typeof LanceDB;

const TABLE = 'items';

const CORE = CORE_COLUMN_SET;
const SUMMARY_COLUMNS = CORE_COLUMNS.filter((c) => c !== 'vector' && c !== 'probs');

export interface AnnSettings {
  /** Build an ANN index once the collection holds this many items; below it search is exact. */
  threshold: number;
  /** Rows per IVF partition when the index is built (partitions = rows / this, at least 1). */
  rowsPerPartition: number;
  /** Candidates re-scored exactly per result wanted (LanceDB refine factor). */
  refineFactor: number;
  /** IVF partitions probed per query. */
  nprobes: number;
  /** HNSW search breadth. */
  ef: number;
}

// Chosen with bench/search-latency.ts at 1M vectors on 2 cores: the exact re-scoring of candidates
// dominates query time, and refineFactor 3 keeps recall@10 ≈ 0.99 at about half the cost of 10.
export const DEFAULT_ANN: AnnSettings = { threshold: 50_000, rowsPerPartition: 20_000, refineFactor: 3, nprobes: 12, ef: 40 };

export interface LanceStoreOptions {
  /** Dimension of the image features, and the model that made them, for a new index. */
  dimension: number;
  numClasses: number;
  imageModel: string;
  /** Create the index if the folder holds none (default true). */
  create?: boolean;
  ann?: Partial<AnnSettings>;
}

function fsl(dim: number, type: Arrow.DataType): Arrow.FixedSizeList {
  return new arrow.FixedSizeList(dim, new arrow.Field('item', type, true));
}

function coreSchema(dim: number, classes: number): Arrow.Schema {
  const list = (t: Arrow.DataType) => new arrow.List(new arrow.Field('item', t, true));
  return new arrow.Schema([
    new arrow.Field('id', new arrow.Utf8(), false),
    new arrow.Field('path', new arrow.Utf8(), false),
    new arrow.Field('paths', list(new arrow.Utf8()), false),
    new arrow.Field('file_sizes', list(new arrow.Float64()), false),
    new arrow.Field('file_mtimes', list(new arrow.Float64()), false),
    new arrow.Field('vector', fsl(dim, new arrow.Float32()), false),
    // Half precision halves the largest column; probabilities need no more.
    new arrow.Field('probs', fsl(classes, new arrow.Float16()), false),
    new arrow.Field('img_width', new arrow.Int32(), false),
    new arrow.Field('img_height', new arrow.Int32(), false),
    new arrow.Field('img_format', new arrow.Utf8(), false),
    new arrow.Field('indexed_at', new arrow.Float64(), false),
    new arrow.Field('meta', new arrow.Utf8(), false),
    new arrow.Field('search_text', new arrow.Utf8(), true),
  ]);
}

const HEX_ID = /^[0-9a-f]{8,64}$/;

/**
 * How long reads reuse the table version last asked for. LanceDB's version() can hold the event
 * loop for milliseconds (measured: 2–9 ms for one call in ten under a search load), and a
 * search asks several times (answer cache, vectors, expansion, page records). Writes through
 * this store forget it at once; another process's writes already take up to the connection's
 * read-consistency interval (1 s) to be seen, and this adds at most a tenth of that.
 */
const VERSION_REUSE_MS = 100;

function idList(ids: readonly string[]): string {
  for (const id of ids) if (!HEX_ID.test(id)) throw new VisorError('QUERY_INVALID', `not an item id: ${JSON.stringify(id)}`);
  return ids.map((id) => `'${id}'`).join(', ');
}

function toNumberArray(v: unknown): number[] {
  if (v == null) return [];
  const arr = (v as { toArray?: () => ArrayLike<unknown> }).toArray?.() ?? (v as ArrayLike<unknown>);
  return Array.from(arr, (x) => Number(x));
}

function toStringArray(v: unknown): string[] {
  if (v == null) return [];
  const arr = (v as { toArray?: () => ArrayLike<unknown> }).toArray?.() ?? (v as ArrayLike<unknown>);
  return Array.from(arr, (x) => String(x));
}

interface FlatCache {
  version: number;
  ids: string[];
  rowOf: Map<string, number>;
  /** Row of each LanceDB row id read with the vectors: per fragment, by offset (-1: none). */
  rowOfRowId: Map<number, Int32Array>;
  matrix: Float32Array;
  /** Class probabilities in the same row order, loaded on first use (text queries need them). */
  probs?: Float32Array;
}

interface AnnIndexInfo {
  name: string;
  type: string;
  indexedRows: number;
  unindexedRows: number;
}

/** Brings an index written by an older Visor up to the current schema, in place. */
async function migrate(table: LanceDB.Table, manifest: Manifest): Promise<void> {
  const has = new Set((await table.schema()).fields.map((f) => f.name));
  if (manifest.schemaVersion < 2 && !has.has('search_text')) {
    await table.addColumns([{ name: 'search_text', valueSql: SEARCH_TEXT_SQL }]);
  }
  manifest.schemaVersion = SCHEMA_VERSION;
}

/** The embedded store: one LanceDB table, one row per unique image content. */
export class LanceStore implements VectorStore {
  private flat: FlatCache | null = null;
  private flatLoading: { version: number; promise: Promise<FlatCache> } | null = null;
  /** Summary columns of every row, in the vectors' row order, for the version the vectors are of (null: rows out of step). */
  private summary: { version: number; rows: Promise<Arrow.Table | null> } | null = null;
  /** The table's version as last asked, shared by reads for VERSION_REUSE_MS; every write here forgets it. */
  private versionRead: { at: number; version: Promise<number> } | null = null;
  /** The vector index as of a table version (any write or index build makes a new version). */
  private annInfo: { version: number; info: AnnIndexInfo | null } | null = null;
  private kernel: ExactKernel | null = null;
  private readonly ann: AnnSettings;
  private readonly spaceTables = new Map<string, Promise<SpaceTable>>();

  private constructor(
    readonly dir: string,
    private readonly db: LanceDB.Connection,
    private readonly table: LanceDB.Table,
    readonly manifest: Manifest,
    ann: Partial<AnnSettings> | undefined,
  ) {
    this.ann = { ...DEFAULT_ANN, ...ann };
  }

  get dimension(): number {
    return this.manifest.dimension;
  }

  static async open(dir: string, opts: LanceStoreOptions): Promise<LanceStore> {
    let manifest = readManifest(dir);
    if (!manifest) {
      if (opts.create === false) {
        throw new VisorError('INDEX_EMPTY', `no Visor index at ${dir}; create one with 'visor index <folder>'`);
      }
      if (fs.existsSync(dir) && fs.readdirSync(dir).length > 0) {
        throw new VisorError('INDEX_INCOMPATIBLE', `${dir} is not empty and holds no Visor index; choose another --db`);
      }
      try {
        fs.mkdirSync(dir, { recursive: true });
        fs.accessSync(dir, fs.constants.W_OK);
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        const why = code === 'EACCES' || code === 'EPERM' ? 'permission denied' : code === 'EROFS' ? 'read-only file system' : (e as Error).message;
        throw new VisorError('INDEX_INCOMPATIBLE', `cannot create an index at ${dir}: ${why}`, { cause: e });
      }
      manifest = {
        format: 'visor-index',
        schemaVersion: SCHEMA_VERSION,
        imageModel: opts.imageModel,
        dimension: opts.dimension,
        numClasses: opts.numClasses,
        createdAt: new Date().toISOString(),
        settings: {},
      };
    } else if (manifest.imageModel !== opts.imageModel || manifest.dimension !== opts.dimension) {
      throw new VisorError(
        'INDEX_INCOMPATIBLE',
        `index at ${dir} was built with ${manifest.imageModel} (${manifest.dimension}-d); ` +
          `it cannot be searched with ${opts.imageModel} (${opts.dimension}-d)`,
      );
    }
    // Readers re-check for commits by other processes (an indexer running beside a server).
    const db = await lancedb.connect(dir, { readConsistencyInterval: 1 });
    const names = await db.tableNames();
    const table = names.includes(TABLE)
      ? await db.openTable(TABLE)
      : await db.createEmptyTable(TABLE, coreSchema(manifest.dimension, manifest.numClasses));
    if (manifest.schemaVersion < SCHEMA_VERSION) await migrate(table, manifest);
    if (!fs.existsSync(`${dir}/visor.json`) || manifest.schemaVersion !== readManifest(dir)?.schemaVersion) writeManifest(dir, manifest);
    return new LanceStore(dir, db, table, manifest, opts.ann);
  }

  /** Persists collection-level settings (kept in visor.json). */
  saveSettings(settings: Record<string, unknown>): void {
    this.manifest.settings = { ...this.manifest.settings, ...settings };
    writeManifest(this.dir, this.manifest);
  }

  async count(): Promise<number> {
    return this.table.countRows();
  }

  /** The table's version: it changes with every write, so it keys caches of search answers. */
  async version(): Promise<number> {
    const now = performance.now();
    if (this.versionRead && now - this.versionRead.at < VERSION_REUSE_MS) return this.versionRead.version;
    const read = { at: now, version: this.table.version() };
    this.versionRead = read;
    read.version.catch(() => this.versionRead === read && (this.versionRead = null));
    return read.version;
  }

  /** Reads the newest version now (another thread's or process's writes), not after the read-consistency interval. */
  async refresh(): Promise<void> {
    await this.table.checkoutLatest();
    this.wrote();
  }

  /** After any write: the next read asks LanceDB for the version again. */
  private wrote(): void {
    this.versionRead = null;
  }

  async fileStates(): Promise<FileState[]> {
    // Column by column: row objects cost ~20 µs each, which a 100k-image re-index would feel.
    const tbl = (await this.table.query().select(['id', 'paths', 'file_sizes', 'file_mtimes']).toArrow()) as unknown as Arrow.Table;
    const out: FileState[] = [];
    for (const batch of tbl.batches) {
      const ids = batch.getChild('id')!;
      const paths = batch.getChild('paths')!;
      const sizes = batch.getChild('file_sizes')!;
      const mtimes = batch.getChild('file_mtimes')!;
      for (let r = 0; r < batch.numRows; r++) {
        const id = String(ids.get(r));
        const p = paths.get(r) as Arrow.Vector;
        const sz = (sizes.get(r) as Arrow.Vector).toArray() as Float64Array;
        const mt = (mtimes.get(r) as Arrow.Vector).toArray() as Float64Array;
        for (let i = 0; i < p.length; i++) out.push({ path: String(p.get(i)), id, size: sz[i] ?? -1, mtimeMs: mt[i] ?? -1 });
      }
    }
    return out;
  }

  private rowToItem(r: Record<string, unknown>): StoredItem {
    return {
      id: String(r.id),
      path: String(r.path),
      paths: toStringArray(r.paths),
      fileSizes: toNumberArray(r.file_sizes),
      fileMtimes: toNumberArray(r.file_mtimes),
      width: Number(r.img_width),
      height: Number(r.img_height),
      format: String(r.img_format),
      indexedAt: Number(r.indexed_at),
      // The JSON column is the record as given; typed columns are for filtering.
      meta: JSON.parse(String(r.meta ?? '{}')) as MetaRecord,
    };
  }

  async getItems(ids: readonly string[]): Promise<StoredItem[]> {
    if (ids.length === 0) return [];
    const held = await this.heldItems(ids);
    if (held) return held;
    const rows = (await this.takeByPosition(ids)) ?? (await this.table.query().where(`id IN (${idList(ids)})`).select([...SUMMARY_COLUMNS]).toArray());
    const byId = new Map(rows.map((r) => [String(r.id), this.rowToItem(r)]));
    return ids.map((id) => byId.get(id)).filter((x): x is StoredItem => x !== undefined);
  }

  /** Items decoded from the summary rows, each once per table version (by row; filled as asked). */
  private decoded: { rows: Arrow.Table; items: Array<StoredItem | undefined> } | null = null;

  /**
   * The items from the summary rows in memory, when the vectors in memory belong to the current
   * version: each row is decoded (Arrow row, JSON of its meta) once per version, not on every
   * page of results. Copies are returned, so callers may change them. Null when it cannot be used.
   */
  private async heldItems(ids: readonly string[]): Promise<StoredItem[] | null> {
    const flat = this.flat;
    if (!flat || ids.length > 1000 || flat.version !== (await this.version())) return null;
    const all = await this.summaryRows(flat);
    if (!all) return null;
    if (this.decoded?.rows !== all) this.decoded = { rows: all, items: new Array<StoredItem | undefined>(all.numRows) };
    const items = this.decoded.items;
    const out: StoredItem[] = [];
    for (const id of ids) {
      const r = flat.rowOf.get(id);
      if (r === undefined) continue;
      const it = (items[r] ??= this.rowToItem(all.get(r) as unknown as Record<string, unknown>));
      out.push({ ...it, paths: [...it.paths], fileSizes: [...it.fileSizes], fileMtimes: [...it.fileMtimes], meta: structuredCloneMeta(it.meta) });
    }
    return out;
  }

  /**
   * Summary rows read by position when the vectors in memory belong to the current version (the
   * ids were found there): a direct read instead of a filtered scan of every row, which a
   * server hydrating each page of results would otherwise pay. Null when it cannot be used.
   */
  private async takeByPosition(ids: readonly string[]): Promise<Record<string, unknown>[] | null> {
    const flat = this.flat;
    if (!flat || ids.length > 1000 || flat.version !== (await this.version())) return null;
    // Rows come back in table order.
    const offsets = ids
      .map((id) => flat.rowOf.get(id))
      .filter((r): r is number => r !== undefined)
      .sort((a, b) => a - b);
    if (offsets.length === 0) return [];
    const all = await this.summaryRows(flat);
    if (all) return offsets.map((r) => all.get(r) as unknown as Record<string, unknown>);
    const rows = await this.table.takeOffsets(offsets).select([...SUMMARY_COLUMNS]).toArray();
    // Positions follow the scan order the cache was read in; should that ever differ, scan instead.
    return rows.length === offsets.length && rows.every((r, i) => String(r.id) === flat.ids[offsets[i]!]) ? rows : null;
  }

  /**
   * The summary columns of every row, read in one scan per table version and kept (a few hundred
   * bytes a row, beside the 5 KB of its vector in memory): a server hydrates a page of results on
   * every search, and reading 24 rows from memory costs a tenth of a LanceDB read. Null when the
   * scan's rows are not those of the vectors in memory (a write came between).
   */
  private summaryRows(flat: FlatCache): Promise<Arrow.Table | null> {
    if (this.summary?.version !== flat.version) {
      const rows = (async () => {
        const tbl = (await this.table.query().select([...SUMMARY_COLUMNS]).toArrow()) as unknown as Arrow.Table;
        if (tbl.numRows !== flat.ids.length) return null;
        const ids = tbl.getChild('id')!;
        for (let r = 0; r < tbl.numRows; r++) if (ids.get(r) !== flat.ids[r]) return null;
        return tbl;
      })();
      this.summary = { version: flat.version, rows };
      rows.catch(() => this.summary?.rows === rows && (this.summary = null));
    }
    return this.summary.rows;
  }

  async getItemsWithVectors(ids: readonly string[]): Promise<ItemWithVectors[]> {
    if (ids.length === 0) return [];
    const rows = await this.table.query().where(`id IN (${idList(ids)})`).toArray();
    const byId = new Map<string, ItemWithVectors>();
    for (const r of rows) {
      const item = this.rowToItem(r);
      const vector = Float32Array.from((r.vector as { toArray(): Float32Array }).toArray());
      const probs = float16ToFloat32((r.probs as { toArray(): Uint16Array }).toArray());
      byId.set(item.id, { ...item, vector, probs });
    }
    return ids.map((id) => byId.get(id)).filter((x): x is ItemWithVectors => x !== undefined);
  }

  /** Builds the Arrow batch column by column from typed arrays: no per-number conversion. */
  private async toArrowTable(items: readonly ItemWithVectors[]): Promise<Arrow.Table> {
    const metaCols = await this.metaColumns();
    const schema = (await this.table.schema()) as unknown as Arrow.Schema;
    const n = items.length;
    const dim = this.dimension;
    const classes = this.manifest.numClasses;
    const vectors = new Float32Array(n * dim);
    const probs = new Uint16Array(n * classes);
    items.forEach((it, i) => {
      if (it.vector.length !== dim) throw new Error(`vector of ${it.vector.length} dims, index holds ${dim}`);
      vectors.set(it.vector, i * dim);
      float32ToFloat16(it.probs, probs, i * classes);
    });
    const column = (name: string, values: unknown[]) => arrow.vectorFromArray(values, schema.fields.find((f) => f.name === name)!.type).data[0]!;
    const fixed = (name: string, width: number, values: Float32Array | Uint16Array) => {
      const type = schema.fields.find((f) => f.name === name)!.type as Arrow.FixedSizeList;
      const child = arrow.makeData({ type: type.children[0]!.type, length: n * width, nullCount: 0, data: values } as never);
      return arrow.makeData({ type, length: n, nullCount: 0, child } as never);
    };
    const byName: Record<string, Arrow.Data> = {
      id: column('id', items.map((i) => i.id)),
      path: column('path', items.map((i) => i.path)),
      paths: column('paths', items.map((i) => i.paths)),
      file_sizes: column('file_sizes', items.map((i) => i.fileSizes)),
      file_mtimes: column('file_mtimes', items.map((i) => i.fileMtimes)),
      vector: fixed('vector', dim, vectors),
      probs: fixed('probs', classes, probs),
      img_width: column('img_width', items.map((i) => i.width)),
      img_height: column('img_height', items.map((i) => i.height)),
      img_format: column('img_format', items.map((i) => i.format)),
      indexed_at: column('indexed_at', items.map((i) => i.indexedAt)),
      meta: column('meta', items.map((i) => JSON.stringify(i.meta))),
      search_text: column('search_text', items.map((i) => searchTextFor(i.path, i.meta))),
    };
    for (const [c, type] of Object.entries(metaCols)) {
      byName[c] = column(
        c,
        items.map((it) => {
          const v = it.meta[c];
          if (v == null) return null;
          if (type === 'string') return String(v);
          const num = typeof v === 'number' ? v : Number(v);
          return Number.isFinite(num) ? num : null; // the raw text stays in the meta column
        }),
      );
    }
    const children = schema.fields.map((f) => {
      const d = byName[f.name];
      if (!d) throw new Error(`no data for column ${f.name}`);
      return d;
    });
    const struct = arrow.makeData({ type: new arrow.Struct(schema.fields), length: n, nullCount: 0, children });
    return new arrow.Table([new arrow.RecordBatch(schema, struct)]);
  }

  async upsert(items: readonly ItemWithVectors[]): Promise<void> {
    if (items.length === 0) return;
    const data = await this.toArrowTable(items);
    const existing = new Set((await this.getItems(items.map((i) => i.id))).map((i) => i.id));
    try {
      if (existing.size === 0) {
        await this.table.add(data); // the common case: new content, no join needed
      } else {
        await this.table.mergeInsert('id').whenMatchedUpdateAll().whenNotMatchedInsertAll().execute(data);
      }
    } finally {
      this.wrote();
    }
  }

  async insert(items: readonly ItemWithVectors[]): Promise<void> {
    if (items.length > 0) await this.table.add(await this.toArrowTable(items)).finally(() => this.wrote());
  }

  async deleteItems(ids: readonly string[]): Promise<void> {
    for (let i = 0; i < ids.length; i += 500) {
      await this.table.delete(`id IN (${idList(ids.slice(i, i + 500))})`).finally(() => this.wrote());
    }
    // Then from every embedding space; rows a crash leaves behind are dropped by optimize().
    for (const name of Object.keys(this.manifest.spaces ?? {})) if (ids.length) await (await this.space(name)).delete(ids);
  }

  async metaColumns(): Promise<Record<string, MetaColumnType>> {
    const schema = await this.table.schema();
    const out: Record<string, MetaColumnType> = {};
    for (const f of schema.fields) {
      if (CORE.has(f.name)) continue;
      out[f.name] = arrow.DataType.isUtf8(f.type) || arrow.DataType.isLargeUtf8(f.type) ? 'string' : 'number';
    }
    return out;
  }

  async ensureMetaColumns(columns: Record<string, MetaColumnType>): Promise<void> {
    const have = await this.metaColumns();
    const add = Object.entries(columns)
      .filter(([name]) => !(name in have) && !CORE.has(name))
      .map(([name, type]) => ({ name, valueSql: type === 'number' ? 'CAST(NULL AS DOUBLE)' : 'CAST(NULL AS STRING)' }));
    if (add.length > 0) await this.table.addColumns(add).finally(() => this.wrote());
  }

  private async annIndex(): Promise<AnnIndexInfo | null> {
    // Every query asks; listing indices and their stats costs more than the version check.
    const version = await this.version();
    if (this.annInfo?.version === version) return this.annInfo.info;
    const indices = await this.table.listIndices();
    const vec = indices.find((i) => i.columns.includes('vector'));
    const st = vec ? await this.table.indexStats(vec.name) : undefined;
    const info = vec ? { name: vec.name, type: vec.indexType, indexedRows: st?.numIndexedRows ?? 0, unindexedRows: st?.numUnindexedRows ?? 0 } : null;
    this.annInfo = { version, info };
    return info;
  }

  /**
   * A filter LanceDB refused, in the user's terms: its last cause without the Rust source
   * locations and repeated cause chain, and for an unknown column the catalogue's columns
   * (LanceDB lists its internal ones).
   */
  private async filterError(where: string, e: unknown): Promise<VisorError> {
    const causes = errorMessage(e).split(/\s+Caused by:\s+/);
    let reason = causes[causes.length - 1]!.replace(/,\s*\/\S+\.rs:\d+:\d+/g, '').trim();
    const field = /No field named ([^\s.]+)/.exec(reason);
    if (field) {
      const columns = Object.keys(await this.metaColumns().catch(() => ({})));
      reason = `no column named ${field[1]}; catalogue columns: ${columns.length ? columns.join(', ') : 'none (index a catalogue to filter by its fields)'}`;
    } else {
      reason = /\(sql parser error: (.*)\)$/.exec(reason)?.[1] ?? reason;
    }
    return new VisorError('FILTER_INVALID', `invalid filter ${JSON.stringify(where)}: ${reason}`, { cause: e });
  }

  private async whereIds(where: string): Promise<Set<string>> {
    try {
      const rows = await this.table.query().where(where).select(['id']).toArray();
      return new Set(rows.map((r) => String(r.id)));
    } catch (e) {
      throw await this.filterError(where, e);
    }
  }

  /** Ids of the items matching an SQL filter over item columns. */
  async matchingIds(where: string): Promise<Set<string>> {
    return this.whereIds(where);
  }

  /** All vectors in memory for exact search; reloaded when the table has changed. */
  private async flatCache(): Promise<FlatCache> {
    const version = await this.version();
    if (this.flat && this.flat.version === version) return this.flat;
    // Concurrent searches (a server's) share one load rather than each reading every vector.
    if (this.flatLoading?.version === version) return this.flatLoading.promise;
    const promise = this.loadFlat(version).finally(() => {
      if (this.flatLoading?.promise === promise) this.flatLoading = null;
    });
    this.flatLoading = { version, promise };
    return promise;
  }

  private async loadFlat(version: number): Promise<FlatCache> {
    this.flat = null; // let the old matrix go before allocating the new one
    this.summary = null;
    this.decoded = null;
    const dim = this.dimension;
    const n = await this.table.countRows();
    const matrix = new Float32Array(n * dim);
    const ids: string[] = [];
    const tbl = (await this.table.query().select(['id', 'vector']).withRowId().toArrow()) as unknown as Arrow.Table;
    const rowOfRowId = new Map<number, Int32Array>();
    const place: Array<[number, number, number]> = []; // fragment, offset, row
    for (const batch of tbl.batches) {
      const idCol = batch.getChild('id')!;
      const halves = rowIdHalves(batch.getChild('_rowid')!);
      for (let i = 0; i < halves.length / 2; i++) place.push([halves[2 * i + 1]!, halves[2 * i]!, ids.length + i]);
      let row = 0; // row within this batch, across the vector column's chunks
      for (const d of batch.getChild('vector')!.data) {
        const child = d.children[0]!;
        const values = child.values as Float32Array;
        const start = child.offset + d.offset * dim;
        matrix.set(values.subarray(start, start + d.length * dim), ids.length * dim);
        for (let i = 0; i < d.length; i++) ids.push(String(idCol.get(row + i)));
        row += d.length;
      }
    }
    const size = new Map<number, number>();
    for (const [f, o] of place) size.set(f, Math.max(size.get(f) ?? 0, o + 1));
    for (const [f, len] of size) rowOfRowId.set(f, new Int32Array(len).fill(-1));
    for (const [f, o, r] of place) rowOfRowId.get(f)![o] = r;
    const rowOf = new Map(ids.map((id, i) => [id, i]));
    this.flat = { version, ids, rowOf, rowOfRowId, matrix };
    return this.flat;
  }

  private async exactTopK(queries: Float32Array, count: number, opts: VectorSearchOptions): Promise<BatchHits> {
    const flat = await this.flatCache();
    const n = flat.ids.length;
    if (n === 0) return { count, k: 0, rows: new Int32Array(0), scores: new Float32Array(0), ids: flat.ids };
    const bias = new Float32Array(n);
    if (opts.where) {
      bias.fill(-Infinity);
      for (const id of await this.whereIds(opts.where)) {
        const row = flat.rowOf.get(id);
        if (row !== undefined) bias[row] = 0;
      }
    }
    for (const id of opts.exclude ?? []) {
      const row = flat.rowOf.get(id);
      if (row !== undefined) bias[row] = -Infinity;
    }
    // onnxruntime loads on the first exact search, not when the index is opened.
    this.kernel ??= await (await import('./exact-kernel.js')).ExactKernel.create();
    const top = await this.kernel.topK(queries, count, flat.matrix, n, bias, opts.k);
    return { count, k: top.k, rows: top.rows, scores: top.scores, ids: flat.ids };
  }

  async search(query: Float32Array, opts: VectorSearchOptions): Promise<VectorHit[]> {
    if (query.length !== this.dimension) {
      throw new VisorError('QUERY_INVALID', `query vector has ${query.length} dims, index holds ${this.dimension}`);
    }
    const ann = opts.exact ? null : await this.annIndex();
    if (!ann) {
      const top = await this.exactTopK(query, 1, opts);
      const hits: VectorHit[] = [];
      for (let j = 0; j < top.k && top.scores[j] !== -Infinity; j++) hits.push({ id: top.ids[top.rows[j]!]!, score: top.scores[j]! });
      return hits;
    }
    const extra = opts.exclude?.size ?? 0;
    let q = this.table
      .vectorSearch(Array.from(query))
      .column('vector')
      .distanceType('cosine')
      .nprobes(this.ann.nprobes)
      // LanceDB asks HNSW for limit × refineFactor candidates; ef must cover them.
      .ef(Math.max(this.ann.ef, (opts.k + extra) * Math.max(1, this.ann.refineFactor)))
      .refineFactor(this.ann.refineFactor)
      .select(['id', '_distance'])
      .limit(opts.k + extra);
    if (opts.where) q = q.where(opts.where);
    let rows: Array<Record<string, unknown>>;
    try {
      rows = await q.toArray();
    } catch (e) {
      if (opts.where) throw await this.filterError(opts.where, e);
      throw e;
    }
    return rows
      .map((r) => ({ id: String(r.id), score: 1 - Number(r._distance) }))
      .filter((h) => !opts.exclude?.has(h.id))
      .slice(0, opts.k);
  }

  async searchMany(queries: Float32Array, count: number, opts: VectorSearchOptions): Promise<BatchHits> {
    return this.exactTopK(queries, count, opts);
  }

  /**
   * Keyword search (BM25, English stemming, stop words and accents folded) over file names
   * and catalogue text. Scores are BM25: comparable within one query only.
   */
  async keywordSearch(text: string, opts: { k: number; where?: string }): Promise<VectorHit[]> {
    if (!text.trim()) return [];
    let q = this.table.query().fullTextSearch(text, { columns: 'search_text' }).select(['id', '_score']).limit(opts.k);
    if (opts.where) q = q.where(opts.where);
    try {
      // Column by column: a word common to a large collection matches thousands of rows, and
      // row objects would cost more than the search itself (a server answers many of these).
      const tbl = (await q.toArrow()) as unknown as Arrow.Table;
      const out: VectorHit[] = [];
      for (const batch of tbl.batches) {
        const ids = batch.getChild('id')!;
        const scores = batch.getChild('_score')!.toArray() as Float32Array;
        for (let r = 0; r < batch.numRows; r++) out.push({ id: String(ids.get(r)), score: scores[r]! });
      }
      return out;
    } catch (e) {
      if (opts.where) throw await this.filterError(opts.where, e);
      throw e;
    }
  }

  /**
   * keywordSearch's scores as rows of `ids` (vectors().ids): LanceDB returns row ids instead of
   * item ids, which saves reading the id column of every hit (about a third of a search's cost
   * at 2,000 hits). A row id names one stored row for good (fragments are never renumbered), so
   * a hit in a row written after the vectors were read finds no row here and is left out, as an
   * unknown id would be. Null when `ids` is not the current vector cache (the caller maps ids).
   */
  async keywordRows(text: string, k: number, ids: readonly string[]): Promise<{ hits: number; rows: Int32Array; scores: Float32Array } | null> {
    const flat = this.flat;
    if (!flat || flat.ids !== ids) return null;
    if (!text.trim()) return { hits: 0, rows: new Int32Array(0), scores: new Float32Array(0) };
    const q = this.table.query().fullTextSearch(text, { columns: 'search_text' }).select(['_score']).withRowId().limit(k);
    const tbl = (await q.toArrow()) as unknown as Arrow.Table;
    const rows = new Int32Array(tbl.numRows);
    const scores = new Float32Array(tbl.numRows);
    let at = 0;
    let frag = -1;
    let offsets: Int32Array | undefined;
    for (const batch of tbl.batches) {
      const halves = rowIdHalves(batch.getChild('_rowid')!);
      const s = batch.getChild('_score')!.toArray() as Float32Array;
      for (let r = 0; r < s.length; r++) {
        const f = halves[2 * r + 1]!;
        if (f !== frag) offsets = flat.rowOfRowId.get((frag = f));
        const row = offsets?.[halves[2 * r]!] ?? -1;
        if (row < 0) continue;
        rows[at] = row;
        scores[at++] = s[r]!;
      }
    }
    return { hits: tbl.numRows, rows: rows.subarray(0, at), scores: scores.subarray(0, at) };
  }

  private async textIndexName(): Promise<string | undefined> {
    return (await this.table.listIndices()).find((i) => i.columns.includes('search_text'))?.name;
  }

  private async buildTextIndex(): Promise<void> {
    await this.table.createIndex('search_text', {
      config: lancedb.Index.fts({ stem: true, language: 'English', removeStopWords: true, lowercase: true, asciiFolding: true, withPosition: false }),
      replace: true,
    }).finally(() => this.wrote());
  }

  async vectors(): Promise<{ ids: readonly string[]; matrix: Float32Array }> {
    const flat = await this.flatCache();
    return { ids: flat.ids, matrix: flat.matrix };
  }

  /** Class probabilities of every item, rows aligned with vectors().ids. */
  async probabilities(): Promise<{ ids: readonly string[]; matrix: Float32Array; classes: number }> {
    const flat = await this.flatCache();
    const classes = this.manifest.numClasses;
    if (!flat.probs) {
      const probs = new Float32Array(flat.ids.length * classes);
      const tbl = (await this.table.query().select(['id', 'probs']).toArrow()) as unknown as Arrow.Table;
      for (const batch of tbl.batches) {
        const idCol = batch.getChild('id')!;
        let row = 0;
        for (const d of batch.getChild('probs')!.data) {
          const child = d.children[0]!;
          const start = child.offset + d.offset * classes;
          const half = (child.values as Uint16Array).subarray(start, start + d.length * classes);
          const f = float16ToFloat32(half);
          for (let i = 0; i < d.length; i++) {
            const r = flat.rowOf.get(String(idCol.get(row + i)));
            if (r !== undefined) probs.set(f.subarray(i * classes, (i + 1) * classes), r * classes);
          }
          row += d.length;
        }
      }
      flat.probs = probs;
    }
    return { ids: flat.ids, matrix: flat.probs, classes };
  }

  /** Scores of every item for each query against stored vectors or probabilities (count × items). */
  async scoreAll(space: 'vector' | 'probs', queries: Float32Array, count: number): Promise<{ ids: readonly string[]; scores: Float32Array }> {
    const m = space === 'vector' ? await this.vectors() : await this.probabilities();
    if (m.ids.length === 0) return { ids: m.ids, scores: new Float32Array(0) };
    this.kernel ??= await (await import('./exact-kernel.js')).ExactKernel.create();
    return { ids: m.ids, scores: await this.kernel.scoreAll(queries, count, m.matrix, m.ids.length) };
  }

  /** Ids of the items a filter admits. */
  async idsWhere(where: string): Promise<Set<string>> {
    return this.whereIds(where);
  }

  async optimize(): Promise<void> {
    // LanceDB 0.30 (lance-index 7.0.0) can panic merging a full-text index after rows were
    // updated or deleted (lance issues #7313, #8310): the text index is rebuilt from scratch
    // instead of merged. Short texts make that cheap; keyword search meanwhile scans unindexed.
    const text = await this.textIndexName();
    if (text) await this.table.dropIndex(text).finally(() => this.wrote());
    // Keep ten minutes of old versions: a reader may still be on one.
    await this.table.optimize({ cleanupOlderThan: new Date(Date.now() - 10 * 60_000) }).finally(() => this.wrote());
    const n = await this.table.countRows();
    if (n > 0) await this.buildTextIndex();
    if (n >= this.ann.threshold && !(await this.annIndex())) await this.buildAnnIndex();
    if (Object.keys(this.manifest.spaces ?? {}).length) {
      const ids = new Set((await this.flatCache()).ids);
      for (const name of Object.keys(this.manifest.spaces ?? {})) await (await this.space(name)).optimize(ids, this.ann);
    }
  }

  /** (Re)builds the approximate index over the vectors now stored. */
  async buildAnnIndex(): Promise<void> {
    const n = await this.table.countRows();
    await this.table.createIndex('vector', {
      config: lancedb.Index.hnswSq({ distanceType: 'cosine', numPartitions: Math.max(1, Math.round(n / this.ann.rowsPerPartition)) }),
      replace: true,
    }).finally(() => this.wrote());
  }

  /** Changes query-time ANN settings (nprobes, ef, refine) for later searches. */
  tuneAnn(settings: Partial<Pick<AnnSettings, 'nprobes' | 'ef' | 'refineFactor'>>): void {
    Object.assign(this.ann, settings);
  }

  /**
   * Another table in the same database folder, created with `schema` when missing. Optional
   * features keep their per-item data there, keyed by item id, so the items table, and
   * indexes made without those features, stay as they are.
   */
  async sideTable(name: string, schema: Arrow.Schema): Promise<LanceDB.Table> {
    if (name === TABLE) throw new Error(`${TABLE} is the items table`);
    const names = await this.db.tableNames();
    return names.includes(name) ? this.db.openTable(name) : this.db.createEmptyTable(name, schema);
  }

  /** Whether a side table exists (without creating it). */
  async hasSideTable(name: string): Promise<boolean> {
    return (await this.db.tableNames()).includes(name);
  }

  async stats(): Promise<StoreStats> {
    const ann = await this.annIndex();
    const states = await this.fileStates();
    return {
      items: await this.table.countRows(),
      files: states.length,
      annIndex: ann ? { type: ann.type, indexedRows: ann.indexedRows, unindexedRows: ann.unindexedRows } : null,
      metaColumns: await this.metaColumns(),
      version: await this.version(),
    };
  }

  // --- Further embedding spaces (e.g. CLIP beside MobileNetV2), one table each ---

  /** The embedding spaces this index holds besides its image features. */
  spaces(): Array<SpaceInfo & { name: string }> {
    return Object.entries(this.manifest.spaces ?? {}).map(([name, info]) => ({ name, ...info }));
  }

  private space(name: string): Promise<SpaceTable> {
    const info = this.manifest.spaces?.[name];
    if (!info) throw new VisorError('NOT_FOUND', `index at ${this.dir} has no embedding space ${JSON.stringify(name)}`);
    let t = this.spaceTables.get(name);
    if (!t) {
      t = SpaceTable.open(this.db, name, info.dimension);
      this.spaceTables.set(name, t);
    }
    return t;
  }

  /** Creates a space (its table and manifest entry), or checks that the existing one matches. */
  async ensureSpace(name: string, info: Omit<SpaceInfo, 'createdAt'>): Promise<void> {
    const have = this.manifest.spaces?.[name];
    if (have) {
      if (have.dimension !== info.dimension) {
        throw new VisorError('INDEX_INCOMPATIBLE', `space ${name} of ${this.dir} holds ${have.dimension}-d vectors; the model gives ${info.dimension}-d`);
      }
      return;
    }
    // The table exists before the manifest names it.
    const table = SpaceTable.open(this.db, name, info.dimension);
    this.spaceTables.set(name, table);
    try {
      await table;
    } catch (e) {
      this.spaceTables.delete(name);
      throw e;
    }
    this.manifest.spaces = { ...this.manifest.spaces, [name]: { ...info, createdAt: new Date().toISOString() } };
    writeManifest(this.dir, this.manifest);
  }

  /** Adds vectors to a space: row i of `matrix` belongs to item ids[i]. */
  async addSpaceVectors(name: string, ids: readonly string[], matrix: Float32Array): Promise<void> {
    await (await this.space(name)).add(ids, matrix);
  }

  /** Ids of the items that have a vector in the space. */
  async spaceIds(name: string): Promise<Set<string>> {
    return (await this.space(name)).ids();
  }

  /** Every item's cosine to `query` in a space, aligned with vectors().ids; NaN where an item has none. */
  async scoreSpace(name: string, query: Float32Array): Promise<{ ids: readonly string[]; scores: Float32Array }> {
    const t = await this.space(name);
    if (query.length !== t.dimension) throw new VisorError('QUERY_INVALID', `query vector has ${query.length} dims, space ${name} holds ${t.dimension}`);
    const { ids } = await this.flatCache();
    this.kernel ??= await (await import('./exact-kernel.js')).ExactKernel.create();
    return { ids, scores: await t.scoreAligned(this.kernel, query, ids) };
  }

  /** Nearest items in a space: exact, or approximate once the space has an ANN index (and no filter). */
  async searchSpace(name: string, query: Float32Array, opts: VectorSearchOptions): Promise<VectorHit[]> {
    const t = await this.space(name);
    if (query.length !== t.dimension) throw new VisorError('QUERY_INVALID', `query vector has ${query.length} dims, space ${name} holds ${t.dimension}`);
    const extra = opts.exclude?.size ?? 0;
    if (!opts.exact && !opts.where && (await t.hasAnnIndex())) {
      const hits = await t.annSearch(query, opts.k + extra, this.ann);
      return hits.filter((h) => !opts.exclude?.has(h.id)).slice(0, opts.k);
    }
    const v = await t.vectors();
    const n = v.ids.length;
    if (n === 0) return [];
    const bias = new Float32Array(n);
    if (opts.where) {
      bias.fill(-Infinity);
      for (const id of await this.whereIds(opts.where)) {
        const row = v.rowOf.get(id);
        if (row !== undefined) bias[row] = 0;
      }
    }
    for (const id of opts.exclude ?? []) {
      const row = v.rowOf.get(id);
      if (row !== undefined) bias[row] = -Infinity;
    }
    this.kernel ??= await (await import('./exact-kernel.js')).ExactKernel.create();
    const top = await this.kernel.topK(query, 1, v.matrix, n, bias, opts.k);
    const hits: VectorHit[] = [];
    for (let j = 0; j < top.k && top.scores[j] !== -Infinity; j++) hits.push({ id: v.ids[top.rows[j]!]!, score: top.scores[j]! });
    return hits;
  }

  async close(): Promise<void> {
    for (const t of this.spaceTables.values()) (await t).close();
    this.spaceTables.clear();
    this.flat = null;
    this.summary = null;
    this.decoded = null;
    await this.kernel?.close();
    this.kernel = null;
    this.table.close();
    this.db.close();
  }
}

/**
 * A `_rowid` column (unsigned 64-bit: fragment · 2³² + offset) as 32-bit halves, offset then
 * fragment for each row (little-endian), without converting each value to a BigInt.
 */
function rowIdHalves(col: Arrow.Vector): Uint32Array {
  const out = new Uint32Array(col.length * 2);
  let at = 0;
  for (const d of col.data) {
    const v = d.values as BigUint64Array;
    out.set(new Uint32Array(v.buffer, v.byteOffset + d.offset * 8, d.length * 2), at);
    at += d.length * 2;
  }
  return out;
}

/** A copy of a meta record (its values are JSON: strings, numbers, booleans, maybe nested). */
function structuredCloneMeta(meta: MetaRecord): MetaRecord {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(meta)) out[k] = v !== null && typeof v === 'object' ? structuredClone(v) : v;
  return out as MetaRecord;
}
