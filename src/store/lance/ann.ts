import type { VectorHit, VectorSearchOptions } from '../types.js';
import { lancedb, type LanceDB } from './arrow.js';

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

export interface AnnIndexInfo {
  name: string;
  type: string;
  indexedRows: number;
  unindexedRows: number;
}

/** The approximate (HNSW-SQ) index of the items' vectors: built, tuned, described, searched. */
export class AnnIndex {
  readonly settings: AnnSettings;
  /** The vector index as of a table version (any write or index build makes a new version). */
  private known: { version: number; info: AnnIndexInfo | null } | null = null;

  constructor(
    private readonly table: LanceDB.Table,
    private readonly version: () => Promise<number>,
    private readonly wrote: () => void,
    settings: Partial<AnnSettings> | undefined,
  ) {
    this.settings = { ...DEFAULT_ANN, ...settings };
  }

  /** The vector index, or null when there is none. */
  async info(): Promise<AnnIndexInfo | null> {
    // Every query asks; listing indices and their stats costs more than the version check.
    const version = await this.version();
    if (this.known?.version === version) return this.known.info;
    const indices = await this.table.listIndices();
    const vec = indices.find((i) => i.columns.includes('vector'));
    const st = vec ? await this.table.indexStats(vec.name) : undefined;
    const info = vec ? { name: vec.name, type: vec.indexType, indexedRows: st?.numIndexedRows ?? 0, unindexedRows: st?.numUnindexedRows ?? 0 } : null;
    this.known = { version, info };
    return info;
  }

  /** (Re)builds the approximate index over the vectors now stored. */
  async build(): Promise<void> {
    const n = await this.table.countRows();
    await this.table
      .createIndex('vector', {
        config: lancedb.Index.hnswSq({ distanceType: 'cosine', numPartitions: Math.max(1, Math.round(n / this.settings.rowsPerPartition)) }),
        replace: true,
      })
      .finally(() => this.wrote());
  }

  /** Changes query-time settings (nprobes, ef, refine) for later searches. */
  tune(settings: Partial<Pick<AnnSettings, 'nprobes' | 'ef' | 'refineFactor'>>): void {
    Object.assign(this.settings, settings);
  }

  /** Approximate nearest items, re-scored exactly (true cosine scores), best first. */
  async search(query: Float32Array, opts: VectorSearchOptions, filterError: (where: string, e: unknown) => Promise<Error>): Promise<VectorHit[]> {
    const extra = opts.exclude?.size ?? 0;
    let q = this.table
      .vectorSearch(Array.from(query))
      .column('vector')
      .distanceType('cosine')
      .nprobes(this.settings.nprobes)
      // LanceDB asks HNSW for limit × refineFactor candidates; ef must cover them.
      .ef(Math.max(this.settings.ef, (opts.k + extra) * Math.max(1, this.settings.refineFactor)))
      .refineFactor(this.settings.refineFactor)
      .select(['id', '_distance'])
      .limit(opts.k + extra);
    if (opts.where) q = q.where(opts.where);
    let rows: Array<Record<string, unknown>>;
    try {
      rows = await q.toArray();
    } catch (e) {
      if (opts.where) throw await filterError(opts.where, e);
      throw e;
    }
    return rows
      .map((r) => ({ id: String(r.id), score: 1 - Number(r._distance) }))
      .filter((h) => !opts.exclude?.has(h.id))
      .slice(0, opts.k);
  }
}
