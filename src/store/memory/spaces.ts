import { checkItemIds, checkSpaceName, noSuchSpace, spaceDimensionMismatch, wrongDimension } from '../errors.js';
import type { Manifest, ScoredRows, SpaceInfo, VectorHit, VectorSearchOptions } from '../types.js';
import { scoreRows, topK } from './exact.js';

/** Further embedding spaces in memory: vectors by item id, in the order added, named in the manifest. */
export class MemorySpaces {
  private readonly byName = new Map<string, Map<string, Float32Array>>();

  constructor(
    private readonly manifest: Manifest,
    /** How messages name the index. */
    private readonly where: string,
  ) {}

  list(): Array<SpaceInfo & { name: string }> {
    return Object.entries(this.manifest.spaces ?? {}).map(([name, info]) => ({ name, ...info }));
  }

  private space(name: string): { dimension: number; vectors: Map<string, Float32Array> } {
    const info = this.manifest.spaces?.[name];
    if (!info) throw noSuchSpace(this.where, name);
    let vectors = this.byName.get(name);
    if (!vectors) this.byName.set(name, (vectors = new Map()));
    return { dimension: info.dimension, vectors };
  }

  async ensure(name: string, info: Omit<SpaceInfo, 'createdAt'>): Promise<void> {
    const have = this.manifest.spaces?.[name];
    if (have) {
      if (have.dimension !== info.dimension) throw spaceDimensionMismatch(this.where, name, have.dimension, info.dimension);
      return;
    }
    checkSpaceName(name);
    this.manifest.spaces = { ...this.manifest.spaces, [name]: { ...info, createdAt: new Date().toISOString() } };
  }

  async add(name: string, ids: readonly string[], matrix: Float32Array): Promise<void> {
    const { dimension, vectors } = this.space(name);
    const n = ids.length;
    if (n === 0) return;
    if (matrix.length !== n * dimension) throw new Error(`expected ${n}×${dimension} values for space ${name}, got ${matrix.length}`);
    checkItemIds(ids);
    ids.forEach((id, i) => vectors.set(id, matrix.slice(i * dimension, (i + 1) * dimension)));
  }

  async ids(name: string): Promise<Set<string>> {
    return new Set(this.space(name).vectors.keys());
  }

  /** Every item's cosine to `query`, aligned with `itemIds`; NaN where an item has no vector here. */
  async score(name: string, query: Float32Array, itemIds: () => readonly string[]): Promise<ScoredRows> {
    const { dimension, vectors } = this.space(name);
    if (query.length !== dimension) throw wrongDimension(query.length, dimension, name);
    const ids = itemIds();
    const scores = new Float32Array(ids.length).fill(NaN);
    ids.forEach((id, i) => {
      const v = vectors.get(id);
      if (v) scores[i] = scoreRows(query, 1, v, 1)[0]!;
    });
    return { ids, scores };
  }

  /** Exact nearest items in a space, with the filter's items only and the excluded ones left out. */
  async search(name: string, query: Float32Array, opts: VectorSearchOptions, idsWhere: (where: string) => Promise<Set<string>>): Promise<VectorHit[]> {
    const { dimension, vectors } = this.space(name);
    if (query.length !== dimension) throw wrongDimension(query.length, dimension, name);
    const ids = [...vectors.keys()];
    const n = ids.length;
    if (n === 0) return [];
    const matrix = new Float32Array(n * dimension);
    ids.forEach((id, i) => matrix.set(vectors.get(id)!, i * dimension));
    const bias = new Float32Array(n);
    if (opts.where) {
      const admitted = await idsWhere(opts.where);
      ids.forEach((id, i) => (bias[i] = admitted.has(id) ? 0 : -Infinity));
    }
    if (opts.exclude) ids.forEach((id, i) => opts.exclude!.has(id) && (bias[i] = -Infinity));
    const top = topK(query, 1, matrix, n, bias, opts.k);
    const hits: VectorHit[] = [];
    for (let j = 0; j < top.k && top.scores[j] !== -Infinity; j++) hits.push({ id: ids[top.rows[j]!]!, score: top.scores[j]! });
    return hits;
  }

  /** Removes items' vectors from every space. */
  deleteItems(ids: readonly string[]): void {
    for (const vectors of this.byName.values()) for (const id of ids) vectors.delete(id);
  }

  /** Drops vectors of items no longer stored. */
  prune(live: ReadonlySet<string>): void {
    for (const vectors of this.byName.values()) for (const id of [...vectors.keys()]) if (!live.has(id)) vectors.delete(id);
  }
}
