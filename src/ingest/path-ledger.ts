import type { VectorStore } from '../store/port.js';

export interface PathRecord {
  path: string;
  size: number;
  mtimeMs: number;
}

/**
 * Paths to attach to or detach from stored items (a duplicate found, a file deleted, a file
 * whose content changed). Collected during a run and applied in one pass: an item left with
 * no path is deleted, the others are rewritten whole, so each item changes atomically.
 */
export class PathLedger {
  private readonly adds = new Map<string, Map<string, PathRecord>>();
  private readonly removes = new Map<string, Set<string>>();

  attach(id: string, rec: PathRecord): void {
    let m = this.adds.get(id);
    if (!m) this.adds.set(id, (m = new Map()));
    m.set(rec.path, rec);
    this.removes.get(id)?.delete(rec.path);
  }

  detach(id: string, path: string): void {
    let s = this.removes.get(id);
    if (!s) this.removes.set(id, (s = new Set()));
    s.add(path);
    this.adds.get(id)?.delete(path);
  }

  get pending(): number {
    return this.adds.size + this.removes.size;
  }

  /** Returns how many items were deleted because no path was left. */
  async apply(store: VectorStore): Promise<{ deletedItems: number; updatedItems: number }> {
    const ids = [...new Set([...this.adds.keys(), ...this.removes.keys()])];
    if (ids.length === 0) return { deletedItems: 0, updatedItems: 0 };
    const summaries = await store.getItems(ids);
    const toDelete: string[] = [];
    const toRewrite: string[] = [];
    for (const item of summaries) {
      const removed = this.removes.get(item.id) ?? new Set<string>();
      const keeps = item.paths.some((p) => !removed.has(p)) || (this.adds.get(item.id)?.size ?? 0) > 0;
      (keeps ? toRewrite : toDelete).push(item.id);
    }
    const rewritten = [];
    for (const item of await store.getItemsWithVectors(toRewrite)) {
      const removed = this.removes.get(item.id) ?? new Set<string>();
      const records = new Map<string, PathRecord>();
      item.paths.forEach((p, i) => {
        if (!removed.has(p)) records.set(p, { path: p, size: item.fileSizes[i] ?? -1, mtimeMs: item.fileMtimes[i] ?? -1 });
      });
      for (const rec of this.adds.get(item.id)?.values() ?? []) records.set(rec.path, rec);
      const list = [...records.values()];
      // The first path stays the one shown, unless it went away.
      const path = records.has(item.path) ? item.path : list[0]!.path;
      list.sort((a, b) => (a.path === path ? -1 : b.path === path ? 1 : 0));
      rewritten.push({
        ...item,
        path,
        paths: list.map((r) => r.path),
        fileSizes: list.map((r) => r.size),
        fileMtimes: list.map((r) => r.mtimeMs),
      });
    }
    await store.upsert(rewritten);
    await store.deleteItems(toDelete);
    this.adds.clear();
    this.removes.clear();
    return { deletedItems: toDelete.length, updatedItems: rewritten.length };
  }
}
