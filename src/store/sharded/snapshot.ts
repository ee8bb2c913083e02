/**
 * The shards' answers for one snapshot joined into one: ids concatenated in shard order, with
 * each shard's first row. Joined once per set of shard snapshots (the shards hand back the same
 * arrays until they change), so vectors(), scoreAll() and searchMany() of one snapshot answer
 * the very same ids array, as the port promises.
 */
export interface Joined {
  ids: readonly string[];
  offsets: number[];
  rowOf: Map<string, number>;
}

export class JoinedIds {
  private held: { parts: ReadonlyArray<readonly string[]>; joined: Joined } | null = null;

  join(parts: ReadonlyArray<readonly string[]>): Joined {
    const h = this.held;
    if (h && h.parts.length === parts.length && h.parts.every((p, i) => p === parts[i])) return h.joined;
    const offsets: number[] = [];
    const ids: string[] = [];
    for (const p of parts) {
      offsets.push(ids.length);
      for (const id of p) ids.push(id);
    }
    const joined = { ids, offsets, rowOf: new Map(ids.map((id, i) => [id, i])) };
    this.held = { parts: [...parts], joined };
    return joined;
  }

  /** The ids joined last (null before any): what keywordRows checks its caller's ids against. */
  get current(): Joined | null {
    return this.held?.joined ?? null;
  }

  clear(): void {
    this.held = null;
  }
}

/** Matrices of the shards stacked (rows in shard order), once per set of shard matrices. */
export class StackedMatrix {
  private held: { parts: readonly Float32Array[]; matrix: Float32Array } | null = null;

  stack(parts: readonly Float32Array[]): Float32Array {
    const h = this.held;
    if (h && h.parts.length === parts.length && h.parts.every((p, i) => p === parts[i])) return h.matrix;
    this.held = null; // let the old one go first
    const matrix = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
    let at = 0;
    for (const p of parts) {
      matrix.set(p, at);
      at += p.length;
    }
    this.held = { parts: [...parts], matrix };
    return matrix;
  }

  clear(): void {
    this.held = null;
  }
}

/** Shards' dense scores (count queries × their rows) laid out over the joined rows. */
export function joinScores(parts: ReadonlyArray<{ ids: readonly string[]; scores: Float32Array }>, joined: Joined, count: number): Float32Array {
  const n = joined.ids.length;
  const out = new Float32Array(count * n);
  parts.forEach((p, s) => {
    const m = p.ids.length;
    for (let q = 0; q < count; q++) out.set(p.scores.subarray(q * m, (q + 1) * m), q * n + joined.offsets[s]!);
  });
  return out;
}
