import type { FaceFact, FactBox } from '../core/facts.js';
import { FACE_DIM } from '../models/face-embedder.js';
import type { SideTable, VectorStore } from '../store/port.js';
import type { SideSchema } from '../store/types.js';

/**
 * The `faces` side table: one row per face found by the faces stage, keyed `<item id>:<n>`,
 * with its image, box, landmarks, detection score, quality figures and embedding. It sits
 * beside the items like the facts table; forgetting a person deletes its rows (and with them
 * the embeddings: nothing else keeps them).
 */
export const FACES_TABLE = 'faces';
const SCHEMA = {
  item: 'string',
  box: { vector: 4 },
  landmarks: { vector: 10 },
  score: 'float32',
  size: 'float32',
  sharpness: 'float32',
  low: 'bool',
  embedding: { vector: FACE_DIM },
} as const satisfies SideSchema;
type Table = SideTable<typeof SCHEMA>;

export interface StoredFace {
  id: string;
  item: string;
  box: FactBox;
  landmarks: number[];
  score: number;
  size: number;
  sharpness: number;
  low: boolean;
  embedding: Float32Array;
}

export type FacesStore = Pick<VectorStore, 'sideTable' | 'hasSideTable'>;

/** Every face as read once per version of the table: rows by id and by item. */
export interface FacesSnapshot {
  version: number;
  byId: ReadonlyMap<string, StoredFace>;
  byItem: ReadonlyMap<string, readonly StoredFace[]>;
}

export const faceId = (item: string, n: number) => `${item}:${n}`;

export class FacesTable {
  private snapshot: FacesSnapshot | null = null;

  private constructor(
    private readonly store: FacesStore,
    private table: Table | null,
  ) {}

  static async open(store: FacesStore): Promise<FacesTable> {
    return new FacesTable(store, (await store.hasSideTable(FACES_TABLE)) ? await store.sideTable(FACES_TABLE, SCHEMA) : null);
  }

  private async existing(): Promise<Table | null> {
    if (!this.table && (await this.store.hasSideTable(FACES_TABLE))) this.table = await this.store.sideTable(FACES_TABLE, SCHEMA);
    return this.table;
  }

  async version(): Promise<number> {
    return (await (await this.existing())?.version()) ?? 0;
  }

  /** Every stored face (items since removed included: the people pass prunes them). Shared: read it, never change it. */
  async all(): Promise<FacesSnapshot> {
    const table = await this.existing();
    const version = (await table?.version()) ?? 0;
    if (this.snapshot?.version === version) return this.snapshot;
    const byId = new Map<string, StoredFace>();
    const byItem = new Map<string, StoredFace[]>();
    if (table) {
      const c = await table.read(['item', 'box', 'landmarks', 'score', 'size', 'sharpness', 'low', 'embedding']);
      c.ids.forEach((id, i) => {
        const f: StoredFace = {
          id,
          item: c.item[i]!,
          box: Array.from(c.box.subarray(i * 4, i * 4 + 4)) as FactBox,
          landmarks: Array.from(c.landmarks.subarray(i * 10, i * 10 + 10)),
          score: c.score[i]!,
          size: c.size[i]!,
          sharpness: c.sharpness[i]!,
          low: c.low[i] === 1,
          embedding: c.embedding.slice(i * FACE_DIM, (i + 1) * FACE_DIM),
        };
        byId.set(id, f);
        const list = byItem.get(f.item);
        if (list) list.push(f);
        else byItem.set(f.item, [f]);
      });
      for (const list of byItem.values()) list.sort((a, b) => a.id.localeCompare(b.id, 'en', { numeric: true }));
    }
    this.snapshot = { version, byId, byItem };
    return this.snapshot;
  }

  /** Replaces the faces of these items with the ones given (an item with none keeps none). */
  async replace(items: ReadonlyArray<{ item: string; faces: readonly FaceFact[] }>): Promise<void> {
    if (items.length === 0) return;
    const before = await this.all();
    const stale = items.flatMap(({ item }) => (before.byItem.get(item) ?? []).map((f) => f.id));
    const rows = items.flatMap(({ item, faces }) =>
      faces
        .filter((f) => f.embedding && f.embedding.length === FACE_DIM)
        .map((f, n) => ({
          id: faceId(item, n),
          item,
          box: Float32Array.from(f.box),
          landmarks: Float32Array.from(f.landmarks),
          score: f.score,
          size: f.size,
          sharpness: f.sharpness,
          low: f.low,
          embedding: Float32Array.from(f.embedding!),
        })),
    );
    const kept = new Set(rows.map((r) => r.id));
    const gone = stale.filter((id) => !kept.has(id));
    if (gone.length > 0) await this.delete(gone);
    if (rows.length === 0) return;
    this.table ??= await this.store.sideTable(FACES_TABLE, SCHEMA);
    await this.table.put(rows);
  }

  async delete(faceIds: readonly string[]): Promise<void> {
    const table = await this.existing();
    if (table && faceIds.length > 0) await table.delete(faceIds);
  }

  /** Deletes faces for good: their rows and embeddings gone from disk too, older versions of the table included. */
  async purge(faceIds: readonly string[]): Promise<void> {
    await this.delete(faceIds);
    await (await this.existing())?.purge?.();
  }

  /** Deletes the faces of items no longer in the index; how many. */
  async prune(live: ReadonlySet<string>): Promise<number> {
    const gone = [...(await this.all()).byId.values()].filter((f) => !live.has(f.item)).map((f) => f.id);
    await this.delete(gone);
    return gone.length;
  }

  close(): void {
    this.table?.close();
    this.table = null;
    this.snapshot = null;
  }
}
