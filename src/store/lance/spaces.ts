import { noSuchSpace, spaceDimensionMismatch, wrongDimension } from '../errors.js';
import type { Manifest, ScoredRows, SpaceInfo, VectorHit, VectorSearchOptions } from '../types.js';
import type { AnnSettings } from './ann.js';
import type { LanceDB } from './arrow.js';
import type { FlatCache } from './flat-cache.js';
import type { LazyKernel } from './kernel.js';
import { SpaceTable } from './space-table.js';

/** Further embedding spaces (e.g. CLIP beside MobileNetV2), one table each, named in the manifest. */
export class Spaces {
  private readonly tables = new Map<string, Promise<SpaceTable>>();

  constructor(
    private readonly dir: string,
    private readonly db: LanceDB.Connection,
    private readonly manifest: Manifest,
    private readonly saveManifest: (m: Manifest) => void,
    private readonly flat: FlatCache,
    private readonly kernel: LazyKernel,
    private readonly ann: AnnSettings,
    private readonly whereIds: (where: string) => Promise<Set<string>>,
  ) {}

  /** The embedding spaces this index holds besides its image features. */
  list(): Array<SpaceInfo & { name: string }> {
    return Object.entries(this.manifest.spaces ?? {}).map(([name, info]) => ({ name, ...info }));
  }

  private space(name: string): Promise<SpaceTable> {
    const info = this.manifest.spaces?.[name];
    if (!info) throw noSuchSpace(this.dir, name);
    let t = this.tables.get(name);
    if (!t) {
      t = SpaceTable.open(this.db, name, info.dimension);
      this.tables.set(name, t);
    }
    return t;
  }

  /** Creates a space (its table and manifest entry), or checks that the existing one matches. */
  async ensure(name: string, info: Omit<SpaceInfo, 'createdAt'>): Promise<void> {
    const have = this.manifest.spaces?.[name];
    if (have) {
      if (have.dimension !== info.dimension) throw spaceDimensionMismatch(this.dir, name, have.dimension, info.dimension);
      return;
    }
    // The table exists before the manifest names it.
    const table = SpaceTable.open(this.db, name, info.dimension);
    this.tables.set(name, table);
    try {
      await table;
    } catch (e) {
      this.tables.delete(name);
      throw e;
    }
    this.manifest.spaces = { ...this.manifest.spaces, [name]: { ...info, createdAt: new Date().toISOString() } };
    this.saveManifest(this.manifest);
  }

  /** Adds vectors to a space: row i of `matrix` belongs to item ids[i]. */
  async add(name: string, ids: readonly string[], matrix: Float32Array): Promise<void> {
    await (await this.space(name)).add(ids, matrix);
  }

  /** Ids of the items that have a vector in the space. */
  async ids(name: string): Promise<Set<string>> {
    return (await this.space(name)).ids();
  }

  /** Every item's cosine to `query` in a space, aligned with vectors().ids; NaN where an item has none. */
  async score(name: string, query: Float32Array): Promise<ScoredRows> {
    const t = await this.space(name);
    if (query.length !== t.dimension) throw wrongDimension(query.length, t.dimension, name);
    const { ids } = await this.flat.get();
    return { ids, scores: await t.scoreAligned(await this.kernel.get(), query, ids) };
  }

  /** Nearest items in a space: exact, or approximate once the space has an ANN index (and no filter). */
  async search(name: string, query: Float32Array, opts: VectorSearchOptions): Promise<VectorHit[]> {
    const t = await this.space(name);
    if (query.length !== t.dimension) throw wrongDimension(query.length, t.dimension, name);
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
    const top = await this.kernel.topK(query, 1, v.matrix, n, bias, opts.k);
    const hits: VectorHit[] = [];
    for (let j = 0; j < top.k && top.scores[j] !== -Infinity; j++) hits.push({ id: v.ids[top.rows[j]!]!, score: top.scores[j]! });
    return hits;
  }

  /** Removes items' vectors from every space; rows a crash leaves behind are dropped by optimize(). */
  async deleteItems(ids: readonly string[]): Promise<void> {
    for (const name of Object.keys(this.manifest.spaces ?? {})) if (ids.length) await (await this.space(name)).delete(ids);
  }

  /** Compacts every space, dropping rows of items no longer stored, and builds ANN indexes when large. */
  async optimize(): Promise<void> {
    if (Object.keys(this.manifest.spaces ?? {}).length) {
      const ids = new Set((await this.flat.get()).ids);
      for (const name of Object.keys(this.manifest.spaces ?? {})) await (await this.space(name)).optimize(ids, this.ann);
    }
  }

  async close(): Promise<void> {
    for (const t of this.tables.values()) (await t).close();
    this.tables.clear();
  }
}
