import type { SideTable } from '../port.js';
import type { SideColumns, SideRow, SideSchema } from '../types.js';
import { groupByShard } from './routing.js';

/** A side table spread over the shards like the items: rows placed by item id, read back shard after shard. */
export class ShardedSideTable<S extends SideSchema> implements SideTable<S> {
  constructor(
    private readonly parts: ReadonlyArray<SideTable<S>>,
    private readonly schema: S,
  ) {}

  async version(): Promise<number> {
    return (await Promise.all(this.parts.map((p) => p.version()))).reduce((a, b) => a + b, 0);
  }

  async put(rows: ReadonlyArray<SideRow<S>>): Promise<void> {
    const groups = groupByShard(
      rows.map((r) => r.id),
      this.parts.length,
    );
    await Promise.all(groups.map((g, s) => (g.length ? this.parts[s]!.put(g.map((i) => rows[i]!)) : Promise.resolve())));
  }

  async read<K extends keyof S & string>(columns: readonly K[]): Promise<SideColumns<S, K>> {
    const parts = await Promise.all(this.parts.map((p) => p.read(columns)));
    const out = { ids: parts.flatMap((p) => p.ids) } as Record<string, unknown>;
    for (const c of columns) {
      const cols = parts.map((p) => (p as Record<string, unknown>)[c]);
      const t = this.schema[c];
      if (t === 'string' || t === 'bytes') out[c] = (cols as unknown[][]).flat();
      else if (t === 'bool') out[c] = concatTyped(cols as Uint8Array[], Uint8Array);
      else out[c] = concatTyped(cols as Float32Array[], Float32Array);
    }
    return out as SideColumns<S, K>;
  }

  async purge(): Promise<void> {
    await Promise.all(this.parts.map((p) => (p.purge ? p.purge() : Promise.resolve())));
  }

  async delete(ids: readonly string[]): Promise<void> {
    const groups = groupByShard(ids, this.parts.length);
    await Promise.all(groups.map((g, s) => (g.length ? this.parts[s]!.delete(g.map((i) => ids[i]!)) : Promise.resolve())));
  }

  close(): void {
    for (const p of this.parts) p.close();
  }
}

function concatTyped<T extends Uint8Array | Float32Array>(parts: T[], Ctor: new (n: number) => T): T {
  const out = new Ctor(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p as never, at);
    at += p.length;
  }
  return out;
}
