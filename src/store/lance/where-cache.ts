/**
 * The ids a filter admits, kept per table version: a catalogue's screens repeat the same few
 * filters, and on object storage each would otherwise be a scan of the shard over the network.
 * The sets are shared between callers, who read them and never change them.
 */
export class WhereCache {
  private readonly entries = new Map<string, { version: number; ids: Promise<Set<string>> }>();

  constructor(private readonly size = 32) {}

  get(where: string, version: number, compute: () => Promise<Set<string>>): Promise<Set<string>> {
    const hit = this.entries.get(where);
    if (hit?.version === version) {
      // Most recently used last, so the oldest is evicted first.
      this.entries.delete(where);
      this.entries.set(where, hit);
      return hit.ids;
    }
    const ids = compute();
    this.entries.set(where, { version, ids });
    // A filter that failed (invalid SQL) is not kept: the next call reports it again.
    ids.catch(() => this.entries.get(where)?.ids === ids && this.entries.delete(where));
    if (this.entries.size > this.size) this.entries.delete(this.entries.keys().next().value!);
    return ids;
  }

  clear(): void {
    this.entries.clear();
  }
}
