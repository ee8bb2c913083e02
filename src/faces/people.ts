import type { FactBox } from '../core/facts.js';
import { VisorError } from '../errors.js';
import type { VectorStore } from '../store/port.js';
import { FacesTable, type FacesSnapshot, type StoredFace } from './faces-table.js';
import { Grouping, type GroupingFace, type Person } from './grouping.js';
import { PeopleTable } from './people-table.js';

/** A person as listed: its id and name, how many faces and images, and the face that best shows it. */
export interface PersonSummary {
  id: string;
  name?: string;
  faces: number;
  images: number;
  /** The clearest good face (largest × sharpest): its id, image and box. */
  face: { id: string; item: string; box: FactBox } | null;
}

export interface PeopleUpdate {
  /** Faces stored in all. */
  faces: number;
  /** Faces placed by this pass (new ones). */
  added: number;
  persons: number;
  merged: number;
  moved: number;
  /** Faces of removed images deleted. */
  pruned: number;
}

/** Who is in the collection's photos: the faces table and the persons, kept in step. */
export class People {
  private constructor(
    readonly faces: FacesTable,
    readonly persons: PeopleTable,
  ) {}

  static async open(store: Pick<VectorStore, 'sideTable' | 'hasSideTable'>): Promise<People> {
    return new People(await FacesTable.open(store), await PeopleTable.open(store));
  }

  private async grouping(snapshot?: FacesSnapshot): Promise<{ g: Grouping; snap: FacesSnapshot }> {
    const snap = snapshot ?? (await this.faces.all());
    const cache = new Map<string, GroupingFace>();
    const faceOf = (id: string) => {
      let f = cache.get(id);
      if (!f) {
        const s = snap.byId.get(id);
        if (!s) return undefined;
        cache.set(id, (f = { id, embedding: s.embedding, low: s.low }));
      }
      return f;
    };
    return { g: new Grouping(await this.persons.all(), faceOf), snap };
  }

  private async save(g: Grouping): Promise<void> {
    await this.persons.save(g.takeChanged());
  }

  /**
   * Brings the persons up to date with the faces table: faces of removed images deleted, new
   * faces placed (in image order), then the regrouping pass. Run after each facts pass.
   */
  async update(live: ReadonlySet<string>): Promise<PeopleUpdate> {
    const pruned = await this.faces.prune(live);
    const { g, snap } = await this.grouping();
    const fresh = [...snap.byId.values()].filter((f) => g.person(f.id) === undefined).sort((a, b) => a.id.localeCompare(b.id, 'en', { numeric: true }));
    g.add(fresh.map((f) => ({ id: f.id, embedding: f.embedding, low: f.low })));
    const { moved, merged } = fresh.length > 0 || pruned > 0 ? g.regroup() : { moved: 0, merged: 0 };
    await this.save(g);
    return { faces: snap.byId.size, added: fresh.length, persons: g.persons.size, merged, moved, pruned };
  }

  /** Every person, most faces first (named ones before unnamed ones of the same size). */
  async list(): Promise<PersonSummary[]> {
    const snap = await this.faces.all();
    const persons = await this.persons.all();
    return persons
      .map((p) => summarize(p, snap))
      .filter((p) => p.faces > 0 || p.name)
      .sort((a, b) => b.faces - a.faces || Number(Boolean(b.name)) - Number(Boolean(a.name)) || a.id.localeCompare(b.id, 'en', { numeric: true }));
  }

  /** A person by id ("p3") or name (any case); an unknown or ambiguous one is an error. */
  async resolve(ref: string): Promise<Person> {
    const persons = await this.persons.all();
    const byId = persons.find((p) => p.id === ref);
    if (byId) return byId;
    const named = persons.filter((p) => p.name !== undefined && p.name.toLowerCase() === ref.trim().toLowerCase());
    if (named.length === 1) return named[0]!;
    if (named.length > 1)
      throw new VisorError('QUERY_INVALID', `${named.length} persons are named ${JSON.stringify(ref)} (${named.map((p) => p.id).join(', ')}): give an id`);
    throw new VisorError('NOT_FOUND', `no person ${JSON.stringify(ref)}: 'visor people' lists them`);
  }

  async name(ref: string, name: string): Promise<PersonSummary> {
    const clean = name.trim();
    if (!clean) throw new VisorError('QUERY_INVALID', 'a name cannot be empty');
    const p = await this.resolve(ref);
    const { g, snap } = await this.grouping();
    g.name(p.id, clean);
    await this.save(g);
    return summarize(g.persons.get(p.id)!, snap);
  }

  /** The user says these persons are one person. */
  async merge(refs: readonly string[]): Promise<PersonSummary> {
    if (refs.length < 2) throw new VisorError('QUERY_INVALID', 'merging needs two persons or more');
    const ids = [...new Set((await Promise.all(refs.map((r) => this.resolve(r)))).map((p) => p.id))];
    const names = new Set((await this.persons.all()).filter((p) => ids.includes(p.id) && p.name).map((p) => p.name!));
    if (names.size > 1) throw new VisorError('QUERY_INVALID', `these persons have different names (${[...names].join(', ')}): rename one first`);
    const { g, snap } = await this.grouping();
    const p = g.merge(ids);
    await this.save(g);
    return summarize(p, snap);
  }

  /** The user says these faces of a person are someone else: they become a person of their own, kept apart. */
  async split(ref: string, faceIds: readonly string[]): Promise<PersonSummary> {
    const p = await this.resolve(ref);
    const strangers = faceIds.filter((f) => !p.faces.includes(f));
    if (faceIds.length === 0 || strangers.length > 0)
      throw new VisorError('QUERY_INVALID', faceIds.length === 0 ? 'give the faces to split off' : `not faces of ${p.id}: ${strangers.join(', ')}`);
    const { g, snap } = await this.grouping();
    const out = g.split(p.id, faceIds);
    await this.save(g);
    return summarize(out, snap);
  }

  /** The user says a face is not its person's: it leaves it for good. Returns the person it went to, if any. */
  async removeFace(faceId: string): Promise<string | undefined> {
    const { g } = await this.grouping();
    if (g.person(faceId) === undefined) throw new VisorError('NOT_FOUND', `no face ${JSON.stringify(faceId)} in any person`);
    const to = g.removeFace(faceId);
    await this.save(g);
    return to;
  }

  /** Deletes a person with its faces and their embeddings; what was deleted. */
  async forget(ref: string): Promise<{ id: string; faces: number }> {
    const p = await this.resolve(ref);
    const { g } = await this.grouping();
    const faces = g.forget(p.id);
    await this.faces.purge(faces);
    await this.save(g);
    await this.persons.purge();
    return { id: p.id, faces: faces.length };
  }

  /** Face id → person id and person id → person, for search. */
  async assignments(): Promise<{ snap: FacesSnapshot; personOf: Map<string, string>; persons: Map<string, Person> }> {
    const snap = await this.faces.all();
    const persons = new Map((await this.persons.all()).map((p) => [p.id, p]));
    const personOf = new Map<string, string>();
    for (const p of persons.values()) for (const f of p.faces) personOf.set(f, p.id);
    return { snap, personOf, persons };
  }

  close(): void {
    this.faces.close();
    this.persons.close();
  }
}

function summarize(p: Person, snap: FacesSnapshot): PersonSummary {
  const faces = p.faces.map((f) => snap.byId.get(f)).filter((f): f is StoredFace => f !== undefined);
  const good = faces.filter((f) => !f.low);
  const best = (good.length ? good : faces).reduce<StoredFace | null>(
    (a, b) => (!a || b.size * Math.sqrt(b.sharpness) > a.size * Math.sqrt(a.sharpness) ? b : a),
    null,
  );
  return {
    id: p.id,
    ...(p.name ? { name: p.name } : {}),
    faces: faces.length,
    images: new Set(faces.map((f) => f.item)).size,
    face: best ? { id: best.id, item: best.item, box: best.box } : null,
  };
}
