import type { SideTable } from '../port.js';
import type { SideColumns, SideRow, SideSchema } from '../types.js';

/** A side table in memory: rows by item id, a rewritten row moving to the end (as LanceDB's merge-insert does). */
export class MemorySideTable<S extends SideSchema> implements SideTable<S> {
  private readonly rows = new Map<string, SideRow<S>>();
  private writes = 0;

  constructor(private readonly schema: S) {}

  async version(): Promise<number> {
    return this.writes;
  }

  async put(rows: ReadonlyArray<SideRow<S>>): Promise<void> {
    if (rows.length === 0) return;
    for (const r of rows) {
      const copy: Record<string, unknown> = { id: r.id };
      for (const [name, t] of Object.entries(this.schema)) {
        const v = (r as Record<string, unknown>)[name];
        if (v === undefined || v === null) throw new Error(`side table row ${r.id} has no ${name}`);
        copy[name] = typeof t === 'object' ? Float32Array.from((v as Float32Array).subarray(0, t.vector)) : v instanceof Uint8Array ? Uint8Array.from(v) : v;
      }
      this.rows.delete(r.id);
      this.rows.set(r.id, copy as SideRow<S>);
    }
    this.writes++;
  }

  async read<K extends keyof S & string>(columns: readonly K[]): Promise<SideColumns<S, K>> {
    const all = [...this.rows.values()];
    const n = all.length;
    const out: Record<string, unknown> = { ids: all.map((r) => r.id) };
    for (const c of columns) {
      const t = this.schema[c]!;
      const values = all.map((r) => (r as Record<string, unknown>)[c]);
      if (typeof t === 'object') {
        const m = new Float32Array(n * t.vector);
        values.forEach((v, i) => m.set(v as Float32Array, i * t.vector));
        out[c] = m;
      } else if (t === 'float32') out[c] = Float32Array.from(values as number[]);
      else if (t === 'bool') out[c] = Uint8Array.from(values, (v) => (v ? 1 : 0));
      else if (t === 'bytes') out[c] = values.map((v) => Uint8Array.from(v as Uint8Array));
      else out[c] = values.map(String);
    }
    return out as SideColumns<S, K>;
  }

  async delete(ids: readonly string[]): Promise<void> {
    let removed = false;
    for (const id of ids) removed = this.rows.delete(id) || removed;
    if (removed) this.writes++;
  }

  close(): void {}
}
