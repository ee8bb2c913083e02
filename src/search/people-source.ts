/**
 * How search reads who is in the photos: per row of a snapshot, its faces with their person
 * and embedding; and the persons' names. Read once per change of the faces or the persons.
 */
import { VisorError } from '../errors.js';
import type { Query } from './query.js';

export interface RowFace {
  id: string;
  person?: string;
  embedding: Float32Array;
  size: number;
}

export interface PeopleSnapshot {
  /** Faces by item id. */
  byItem: ReadonlyMap<string, readonly RowFace[]>;
  /** Person id → name (unnamed persons have none). */
  names: ReadonlyMap<string, string | undefined>;
}

/** What the collection gives search (src/faces behind it). */
export interface PeopleSource {
  version(): Promise<string>;
  snapshot(): Promise<PeopleSnapshot>;
  /** The embedding of the main (largest) face in the query's face image; FACE_NOT_FOUND-like errors say why not. */
  queryFace(query: Query): Promise<Float32Array>;
  /** Cosine at which two faces are taken for the same person (chosen on LFW's development pairs). */
  readonly sameFace: number;
}

export class PeopleView {
  private cache: { version: string; ids: readonly string[]; rows: Array<readonly RowFace[]>; snap: PeopleSnapshot } | null = null;
  private readonly faces = new WeakMap<Query, Promise<Float32Array>>();

  constructor(readonly source: PeopleSource) {}

  async rows(ids: readonly string[]): Promise<{ rows: ReadonlyArray<readonly RowFace[]>; snap: PeopleSnapshot }> {
    const version = await this.source.version();
    if (this.cache?.version === version && this.cache.ids === ids) return this.cache;
    const snap = await this.source.snapshot();
    const rows = ids.map((id) => snap.byItem.get(id) ?? []);
    this.cache = { version, ids, rows, snap };
    return this.cache;
  }

  /** The query face's embedding, computed once per query (the signal and the filter both need it). */
  queryFace(query: Query): Promise<Float32Array> {
    let p = this.faces.get(query);
    if (!p) this.faces.set(query, (p = this.source.queryFace(query)));
    return p;
  }

  /** The person ids each asked name (or id) stands for: several persons may share a name. */
  resolve(snap: PeopleSnapshot, refs: readonly string[]): Array<Set<string>> {
    return refs.map((ref) => {
      const want = ref.trim().toLowerCase();
      const ids = new Set<string>();
      for (const [id, name] of snap.names) if (id === ref || name?.toLowerCase() === want) ids.add(id);
      if (ids.size === 0) throw new VisorError('NOT_FOUND', `no person ${JSON.stringify(ref)}: 'visor people' lists them`);
      return ids;
    });
  }
}

/** Per row, whether each asked person has a face in it: the rows with all of them, and the matching faces. */
export function rowsWithPersons(rows: ReadonlyArray<readonly RowFace[]>, wanted: ReadonlyArray<ReadonlySet<string>>): Array<RowFace[] | null> {
  return rows.map((faces) => {
    const matched: RowFace[] = [];
    for (const ids of wanted) {
      const f = faces.find((x) => x.person !== undefined && ids.has(x.person));
      if (!f) return null;
      matched.push(f);
    }
    return matched;
  });
}

/** Per row, the best cosine of its faces to the query face, and that face. */
export function faceMatches(rows: ReadonlyArray<readonly RowFace[]>, query: Float32Array): { scores: Float32Array; best: Array<RowFace | undefined> } {
  const scores = new Float32Array(rows.length).fill(-1);
  const best: Array<RowFace | undefined> = new Array(rows.length);
  rows.forEach((faces, r) => {
    for (const f of faces) {
      let s = 0;
      for (let i = 0; i < query.length; i++) s += query[i]! * f.embedding[i]!;
      if (s > scores[r]!) {
        scores[r] = s;
        best[r] = f;
      }
    }
  });
  return { scores, best };
}

/**
 * The source over the collection's faces and persons (src/faces): `readFaces` reads the faces
 * of a query image (the faces stage's reader, loaded on demand), `sameFace` the cosine taken
 * for one person.
 */
export function peopleSource(
  people: () => Promise<import('../faces/people.js').People>,
  readFaces: (bytes: Buffer) => Promise<ReadonlyArray<{ size: number; embedding?: number[] }>>,
  sameFace: number,
): PeopleSource {
  return {
    sameFace,
    version: async () => {
      const p = await people();
      return `${await p.faces.version()}:${await p.persons.version()}`;
    },
    snapshot: async () => {
      const { snap, personOf, persons } = await (await people()).assignments();
      const byItem = new Map<string, RowFace[]>();
      for (const [item, faces] of snap.byItem) {
        byItem.set(
          item,
          faces.map((f) => ({ id: f.id, embedding: f.embedding, size: f.size, ...(personOf.has(f.id) ? { person: personOf.get(f.id)! } : {}) })),
        );
      }
      return { byItem, names: new Map([...persons.values()].map((p) => [p.id, p.name])) };
    },
    queryFace: async (query) => {
      const ref = query.face!;
      const bytes = typeof ref === 'string' ? await (await import('./read-query-image.js')).readQueryImage(ref) : ref;
      const faces = (await readFaces(bytes)).filter((f) => f.embedding);
      if (faces.length === 0) throw new VisorError('QUERY_INVALID', `no face found in the query image${typeof ref === 'string' ? ` ${ref}` : ''}`);
      const main = faces.reduce((a, b) => (b.size > a.size ? b : a));
      return Float32Array.from(main.embedding!);
    },
  };
}
