import { noProbabilities, wrongDimension } from '../errors.js';
import type { LanceStore } from '../lance/lance-store.js';
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
import { rescoreKeywords } from './keywords.js';
import { Lookout } from './lookout.js';
import type { ManifestObject } from './manifest-object.js';
import { mergeBatches, mergeHits } from './merge.js';
import { needsQueue, type Rewrites } from './rewrites.js';
import { groupByShard, shardName } from './routing.js';
import { ShardedSideTable } from './side-tables.js';
import type { TableClaims } from './table-claims.js';
import { JoinedIds, joinScores, StackedMatrix } from './snapshot.js';

/** Keyword candidates asked of each shard beyond k: a shard's own ranking differs a little from the collection's. */
const KEYWORD_OVERSAMPLE = 2;

/**
 * A collection spread over N shards (each a LanceStore under `<uri>/shards/NNN`), behind the
 * same port: rows are placed by content id (see routing.ts); reads by id go to their shard;
 * dense reads are the shards' answers joined in shard order; top-k searches ask every shard in
 * parallel and merge by score. All state is in the bucket, so any number of stateless nodes can
 * open the same collection; rewrites of shared data run under leases (rewrites.ts).
 */
export class ShardedStore implements VectorStore {
  private readonly joined = new JoinedIds();
  private readonly vectorsMatrix = new StackedMatrix();
  private readonly probsMatrix = new StackedMatrix();
  private readonly sideTables = new Set<SideTable<SideSchema>>();
  /** Looks at every shard for other nodes' commits (null: each shard looks by itself). */
  private readonly lookout: Lookout | null;
  /** Manifest writes scheduled by saveSettings (a synchronous call), awaited by close(). */
  private manifestWrites: Promise<void> = Promise.resolve();
  private manifestError: Error | null = null;

  constructor(
    readonly uri: string,
    readonly manifest: Manifest,
    private readonly shards: readonly LanceStore[],
    private readonly manifestObject: ManifestObject,
    private readonly tableClaims: TableClaims,
    private readonly rewrites: Rewrites,
    private readonly notice: (message: string) => void,
    private readonly release: () => Promise<void>,
    /** How often every shard is looked at for other nodes' commits, all at once (undefined: each shard by itself). */
    lookMs?: number,
  ) {
    // A shard's version read after its look starts reading in its new rows (see LanceStore).
    const lookAll = async () => {
      await this.all(async (s) => {
        await s.refresh();
        return s.version();
      });
    };
    this.lookout = lookMs === undefined ? null : new Lookout(lookAll, lookMs);
  }

  get dimension(): number {
    return this.manifest.dimension;
  }

  get shardCount(): number {
    return this.shards.length;
  }

  private all<T>(f: (s: LanceStore, i: number) => Promise<T>): Promise<T[]> {
    return Promise.all(this.shards.map(f));
  }

  private leaseOf(shard: number): string {
    return shardName(shard).replace('/', '-');
  }

  // --- The manifest ---

  saveSettings(settings: Record<string, unknown>): void {
    if (!this.rewrites.available) throw needsQueue(this.uri, 'changing the collection settings');
    this.manifest.settings = { ...this.manifest.settings, ...settings };
    this.manifestWrites = this.manifestWrites
      .then(() => this.updateManifest((m) => (m.settings = { ...m.settings, ...settings })))
      .catch((e: unknown) => void (this.manifestError ??= e instanceof Error ? e : new Error(String(e))));
  }

  /** Re-reads the manifest object and applies `change` to it, under the manifest lease; every shard sees the result. */
  private async updateManifest(change: (m: Manifest) => void): Promise<void> {
    await this.rewrites.run('manifest', `changing ${this.manifestObject.name}`, async () => {
      const fresh = (await this.manifestObject.read()) ?? this.manifest;
      change(fresh);
      await this.manifestObject.write(fresh);
      this.adopt(fresh);
    });
  }

  /** Takes another node's manifest changes (settings, spaces) in, here and in every shard. */
  private adopt(fresh: Manifest): void {
    this.manifest.settings = { ...fresh.settings };
    this.manifest.spaces = fresh.spaces ? { ...fresh.spaces } : undefined;
    for (const s of this.shards) s.manifest.spaces = fresh.spaces ? { ...fresh.spaces } : undefined;
  }

  // --- Items ---

  async count(): Promise<number> {
    return (await this.all((s) => s.count())).reduce((a, b) => a + b, 0);
  }

  async version(): Promise<number> {
    await this.lookout?.asked();
    // Shard versions only grow, so their sum changes whenever any shard does.
    return (await this.all((s) => s.version())).reduce((a, b) => a + b, 0);
  }

  async refresh(): Promise<void> {
    await this.all((s) => s.refresh());
    const fresh = await this.manifestObject.read();
    if (fresh) this.adopt(fresh);
  }

  async fileStates(): Promise<FileState[]> {
    return (await this.all((s) => s.fileStates())).flat();
  }

  /** Items by id from their shards, in parallel, answered in the order asked. */
  private async byId<T extends { id: string }>(ids: readonly string[], get: (s: LanceStore, ids: string[]) => Promise<T[]>): Promise<T[]> {
    if (ids.length === 0) return [];
    const groups = groupByShard(ids, this.shards.length);
    const found = new Map<string, T>();
    await Promise.all(
      groups.map(async (g, s) => {
        if (g.length)
          for (const it of await get(
            this.shards[s]!,
            g.map((i) => ids[i]!),
          ))
            found.set(it.id, it);
      }),
    );
    return ids.map((id) => found.get(id)).filter((x): x is T => x !== undefined);
  }

  getItems(ids: readonly string[]): Promise<StoredItem[]> {
    return this.byId(ids, (s, part) => s.getItems(part));
  }

  getItemsWithVectors(ids: readonly string[]): Promise<ItemWithVectors[]> {
    return this.byId(ids, (s, part) => s.getItemsWithVectors(part));
  }

  private async perShard(items: readonly ItemWithVectors[], work: (shard: number, part: ItemWithVectors[]) => Promise<void>): Promise<void> {
    const groups = groupByShard(
      items.map((i) => i.id),
      this.shards.length,
    );
    await Promise.all(
      groups.map((g, s) =>
        g.length
          ? work(
              s,
              g.map((i) => items[i]!),
            )
          : Promise.resolve(),
      ),
    );
  }

  async upsert(items: readonly ItemWithVectors[]): Promise<void> {
    await this.perShard(items, async (s, part) => {
      const shard = this.shards[s]!;
      const have = new Set((await shard.getItems(part.map((i) => i.id))).map((i) => i.id));
      // New content is appended (no lease); rows already stored are rewritten under the shard's lease.
      const fresh = part.filter((i) => !have.has(i.id));
      const edits = part.filter((i) => have.has(i.id));
      if (fresh.length) await shard.insert(fresh);
      if (edits.length) await this.rewrites.run(this.leaseOf(s), 'editing stored images (paths, catalogue fields)', () => shard.upsert(edits));
    });
  }

  insert(items: readonly ItemWithVectors[]): Promise<void> {
    return this.perShard(items, (s, part) => this.shards[s]!.insert(part));
  }

  async deleteItems(ids: readonly string[]): Promise<void> {
    const groups = groupByShard(ids, this.shards.length);
    await Promise.all(
      groups.map((g, s) =>
        g.length ? this.rewrites.run(this.leaseOf(s), 'removing images', () => this.shards[s]!.deleteItems(g.map((i) => ids[i]!))) : Promise.resolve(),
      ),
    );
  }

  async metaColumns(): Promise<Record<string, MetaColumnType>> {
    const parts = await this.all((s) => s.metaColumns());
    return Object.assign({}, ...parts.reverse()) as Record<string, MetaColumnType>;
  }

  async ensureMetaColumns(columns: Record<string, MetaColumnType>): Promise<void> {
    await this.all(async (shard, s) => {
      const have = await shard.metaColumns();
      if (Object.keys(columns).every((c) => c in have)) return;
      await this.rewrites.run(this.leaseOf(s), 'adding catalogue columns', () => shard.ensureMetaColumns(columns));
    });
  }

  // --- Filters ---

  async idsWhere(where: string): Promise<Set<string>> {
    const parts = await this.all((s) => s.idsWhere(where));
    return new Set(parts.flatMap((p) => [...p]));
  }

  matchingIds(where: string): Promise<Set<string>> {
    return this.idsWhere(where);
  }

  // --- Vectors ---

  async search(query: Float32Array, opts: VectorSearchOptions): Promise<VectorHit[]> {
    if (query.length !== this.dimension) throw wrongDimension(query.length, this.dimension);
    await this.lookout?.asked();
    const [lists, ann] = await Promise.all([this.all((s) => s.search(query, opts)), opts.exact ? [] : this.all((s) => s.annActive())]);
    if (!ann.some(Boolean)) return mergeHits(lists, opts.k);
    // A shard answered from its approximate index: every candidate is scored again against its
    // stored vector, so the merged ranking is by one exact measure, as one index's would be.
    const ids = lists.flat().map((h) => h.id);
    const rescored = (await this.getItemsWithVectors(ids)).map((it) => ({ id: it.id, score: cosine(query, it.vector) }));
    return mergeHits([rescored.sort((a, b) => b.score - a.score)], opts.k);
  }

  async searchMany(queries: Float32Array, count: number, opts: VectorSearchOptions): Promise<BatchHits> {
    await this.lookout?.asked();
    const parts = await this.all((s) => s.searchMany(queries, count, opts));
    const joined = this.joined.join(parts.map((p) => p.ids));
    return mergeBatches(parts, joined.offsets, joined.ids, count, opts.k);
  }

  async vectors(): Promise<{ ids: readonly string[]; matrix: Float32Array }> {
    await this.lookout?.asked();
    const parts = await this.all((s) => s.vectors());
    const joined = this.joined.join(parts.map((p) => p.ids));
    // Stacked (a copy of every shard's vectors, again after any shard's commit) only when read:
    // a search that scores every item asks for the ids alone.
    const stacked = this.vectorsMatrix;
    return {
      ids: joined.ids,
      get matrix() {
        return stacked.stack(parts.map((p) => p.matrix));
      },
    };
  }

  async probabilities(): Promise<{ ids: readonly string[]; matrix: Float32Array; classes: number }> {
    const parts = await this.all((s) => s.probabilities());
    const joined = this.joined.join(parts.map((p) => p.ids));
    return { ids: joined.ids, matrix: this.probsMatrix.stack(parts.map((p) => p.matrix)), classes: this.manifest.numClasses };
  }

  async scoreAll(space: 'vector' | 'probs', queries: Float32Array, count: number): Promise<ScoredRows> {
    if (space === 'probs' && this.manifest.numClasses === 0) throw noProbabilities(this.uri, this.manifest.imageModel);
    const parts = await this.all((s) => s.scoreAll(space, queries, count));
    const joined = this.joined.join(parts.map((p) => p.ids));
    return { ids: joined.ids, scores: joinScores(parts, joined, count) };
  }

  // --- Keywords ---

  async keywordSearch(text: string, opts: { k: number; where?: string }): Promise<VectorHit[]> {
    await this.lookout?.asked();
    const k = opts.k * KEYWORD_OVERSAMPLE + 20;
    const [candidates, stats] = await Promise.all([this.all((s) => s.keywordCandidates(text, { k, where: opts.where })), this.all((s) => s.termStats())]);
    const hits = rescoreKeywords(candidates.flat(), text, {
      docs: stats.reduce((n, s) => n + s.docs, 0),
      totalLength: stats.reduce((n, s) => n + s.totalLength, 0),
      df: (t) => stats.reduce((n, s) => n + (s.df.get(t) ?? 0), 0),
    });
    return hits.sort((a, b) => b.score - a.score).slice(0, opts.k);
  }

  async keywordRows(text: string, k: number, ids: readonly string[]): Promise<KeywordRows | null> {
    const joined = this.joined.current;
    if (!joined || joined.ids !== ids) return null;
    const hits = await this.keywordSearch(text, { k });
    const rows: number[] = [];
    const scores: number[] = [];
    for (const h of hits) {
      const r = joined.rowOf.get(h.id);
      if (r === undefined) continue;
      rows.push(r);
      scores.push(h.score);
    }
    return { hits: hits.length, rows: Int32Array.from(rows), scores: Float32Array.from(scores) };
  }

  // --- Further embedding spaces ---

  spaces(): Array<SpaceInfo & { name: string }> {
    return Object.entries(this.manifest.spaces ?? {}).map(([name, info]) => ({ name, ...info }));
  }

  async ensureSpace(name: string, info: Omit<SpaceInfo, 'createdAt'>): Promise<void> {
    const have = this.manifest.spaces?.[name];
    // The first shard checks the name and, for an existing space, its dimension.
    if (have) return this.shards[0]!.ensureSpace(name, info);
    if (!this.rewrites.available) throw needsQueue(this.uri, `adding the embedding space ${name}`);
    // Under the manifest lease, the tables too: of nodes adding the same space at once, the first
    // creates its table in every shard and names it in the manifest, the others find it named
    // there (two creating one table would spoil it, see lance/tables.ts).
    await this.rewrites.run('manifest', `adding the embedding space ${name} to ${this.manifestObject.name}`, async () => {
      const fresh = (await this.manifestObject.read()) ?? this.manifest;
      this.adopt(fresh);
      if (fresh.spaces?.[name]) return;
      // Every shard's table exists before the manifest names the space.
      for (const s of this.shards) await s.ensureSpace(name, info);
      fresh.spaces = { [name]: this.shards[0]!.manifest.spaces![name]!, ...fresh.spaces };
      await this.manifestObject.write(fresh);
      this.adopt(fresh);
    });
    // Another node's space of that name: the first shard checks its dimension.
    return this.shards[0]!.ensureSpace(name, info);
  }

  async addSpaceVectors(name: string, ids: readonly string[], matrix: Float32Array): Promise<void> {
    const dim = ids.length ? matrix.length / ids.length : 0;
    const groups = groupByShard(ids, this.shards.length);
    await Promise.all(
      groups.map((g, s) => {
        if (!g.length) return Promise.resolve();
        const part = new Float32Array(g.length * dim);
        g.forEach((i, j) => part.set(matrix.subarray(i * dim, (i + 1) * dim), j * dim));
        return this.shards[s]!.addSpaceVectors(
          name,
          g.map((i) => ids[i]!),
          part,
        );
      }),
    );
  }

  async spaceIds(name: string): Promise<Set<string>> {
    return new Set((await this.all((s) => s.spaceIds(name))).flatMap((p) => [...p]));
  }

  async scoreSpace(name: string, query: Float32Array): Promise<ScoredRows> {
    const parts = await this.all((s) => s.scoreSpace(name, query));
    const joined = this.joined.join(parts.map((p) => p.ids));
    return { ids: joined.ids, scores: joinScores(parts, joined, 1) };
  }

  async searchSpace(name: string, query: Float32Array, opts: VectorSearchOptions): Promise<VectorHit[]> {
    return mergeHits(await this.all((s) => s.searchSpace(name, query, opts)), opts.k);
  }

  // --- Side tables ---

  async hasSideTable(name: string): Promise<boolean> {
    return this.shards[0]!.hasSideTable(name);
  }

  async sideTable<S extends SideSchema>(name: string, schema: S): Promise<SideTable<S>> {
    // One node creates the table in every shard; the others wait for it (see table-claims.ts).
    // Claimed only while a shard lacks it: a node that only reads an existing table writes nothing.
    const creates = !(await this.all((s) => s.hasSideTable(name))).every(Boolean) && (await this.tableClaims.claim(name));
    const opened = await Promise.allSettled(this.shards.map((s, i) => s.sideTable(name, schema, creates ? undefined : this.tableClaims.waitFor(name, i))));
    const parts = opened.flatMap((o) => (o.status === 'fulfilled' ? [o.value] : []));
    const failed = opened.find((o) => o.status === 'rejected');
    if (failed) {
      for (const p of parts) p.close();
      if (creates) await this.tableClaims.release(name).catch(() => undefined);
      throw failed.reason;
    }
    const table = new ShardedSideTable(parts, schema);
    this.sideTables.add(table as unknown as SideTable<SideSchema>);
    return table;
  }

  // --- Upkeep ---

  async optimize(): Promise<void> {
    if (!this.rewrites.available) {
      this.notice(`not optimizing ${this.uri}: compaction and index builds rewrite shared data, which needs a queue (--queue or VISOR_QUEUE)`);
      return;
    }
    const busy: string[] = [];
    await this.all(async (shard, s) => {
      if (!(await this.rewrites.tryRun(this.leaseOf(s), () => shard.optimize()))) busy.push(shardName(s));
    });
    if (busy.length) this.notice(`${busy.join(', ')} of ${this.uri} ${busy.length === 1 ? 'is' : 'are'} being optimized by another node; left to it`);
  }

  async stats(): Promise<StoreStats> {
    const parts = await this.all((s) => s.stats());
    const ann = parts.map((p) => p.annIndex).filter((a) => a !== null);
    return {
      items: parts.reduce((n, p) => n + p.items, 0),
      files: parts.reduce((n, p) => n + p.files, 0),
      annIndex: ann.length
        ? {
            type: ann[0]!.type,
            indexedRows: ann.reduce((n, a) => n + a.indexedRows, 0),
            // Rows of shards still searched exactly count as pending.
            unindexedRows: ann.reduce((n, a) => n + a.unindexedRows, 0) + parts.filter((p) => !p.annIndex).reduce((n, p) => n + p.items, 0),
          }
        : null,
      metaColumns: await this.metaColumns(),
      version: parts.reduce((n, p) => n + p.version, 0),
    };
  }

  async close(): Promise<void> {
    await this.lookout?.close();
    await this.manifestWrites;
    for (const t of this.sideTables) t.close();
    this.sideTables.clear();
    this.joined.clear();
    this.vectorsMatrix.clear();
    this.probsMatrix.clear();
    await this.all((s) => s.close());
    await this.rewrites.close();
    await this.release();
    if (this.manifestError) throw this.manifestError;
  }
}

/** Cosine of unit vectors, in the precision stored scores have. */
function cosine(q: Float32Array, v: Float32Array): number {
  let s = 0;
  for (let i = 0; i < q.length; i++) s += q[i]! * v[i]!;
  return Math.fround(s);
}
