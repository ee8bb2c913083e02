/**
 * Faces grouped into persons, incrementally: each new face joins the person whose centre
 * (the mean of its faces' embeddings) is closest when close enough, else it starts a person.
 * A regrouping pass then merges persons whose centres came close and moves out faces that
 * drifted away from theirs. User decisions bind every pass: a named person keeps its name, two
 * persons with different names are never merged, faces the user placed (merged, moved) stay,
 * a face removed from a person never goes back to it, and persons the user split stay apart.
 *
 * Low-quality faces (small, blurred, uncertain) are kept and listed, but they do not shape a
 * centre and join only when very close; a person made of them alone is never merged, so one
 * poor face cannot bridge two people.
 */

export interface Person {
  id: string;
  name?: string;
  /** Face ids, in the order they joined. */
  faces: string[];
  /** Faces the user placed here (by merging or moving): regrouping never moves them. */
  pinned?: string[];
  /** Faces the user said are not this person: they never join it again. */
  rejected?: string[];
  /** Persons the user split from this one: never merged back. */
  apart?: string[];
}

export interface GroupingFace {
  id: string;
  /** Unit length. */
  embedding: Float32Array;
  low: boolean;
}

export interface GroupingParams {
  /** Cosine to a person's centre at which a face joins it. */
  join: number;
  /** A low-quality face's higher bar to join (it never starts a bridge). */
  joinLow: number;
  /** Cosine between two persons' centres at which they merge. */
  merge: number;
  /** A face whose cosine to its person's centre (without it) falls below this is moved out. */
  evict: number;
}

/**
 * Chosen on the LFW development people (peopleDevTrain.txt, never the test folds) with
 * `npm run eval -- faces --sweep`: the grouping with the best F1 at pairwise precision ≥ 0.95
 * (join 0.5, merge 0.55: P 0.995, R 0.989, F1 0.992 there; see docs/people.md for the sweep).
 * The low-quality bar and the move-out threshold were not swept (LFW has 32 low-quality faces).
 */
/**
 * Cosine at which two faces are taken for the same person (search by face): the threshold of
 * best accuracy on LFW's development training pairs (pairsDevTrain.txt: 0.252, 99.30 % there,
 * 97.87 % on pairsDevTest), `npm run eval -- faces`.
 */
export const SAME_FACE = 0.25;

export const DEFAULT_GROUPING: GroupingParams = { join: 0.5, joinLow: 0.6, merge: 0.55, evict: 0.3 };

const dotN = (a: Float32Array, b: Float32Array) => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
};

interface Centre {
  sum: Float32Array;
  /** Good-quality faces in the sum; when 0 the sum holds the person's low-quality faces. */
  good: number;
  count: number;
  unit: Float32Array;
}

/**
 * The persons' unit centres in one flat matrix (a row per person, rows reused): finding the
 * closest person for each new face is the grouping's inner loop, over thousands of persons.
 */
class CentreRows {
  data = new Float32Array(0);
  readonly ids: Array<string | null> = [];
  private readonly row = new Map<string, number>();
  private readonly free: number[] = [];

  constructor(private dim = 0) {}

  set(id: string, unit: Float32Array): void {
    if (this.dim === 0) this.dim = unit.length;
    let r = this.row.get(id);
    if (r === undefined) {
      r = this.free.pop() ?? this.ids.length;
      if (r === this.ids.length) this.ids.push(null);
      if ((r + 1) * this.dim > this.data.length) {
        const grown = new Float32Array(Math.max(64, 2 * (r + 1)) * this.dim);
        grown.set(this.data);
        this.data = grown;
      }
      this.row.set(id, r);
      this.ids[r] = id;
    }
    this.data.set(unit, r * this.dim);
  }

  delete(id: string): void {
    const r = this.row.get(id);
    if (r === undefined) return;
    this.row.delete(id);
    this.ids[r] = null;
    this.free.push(r);
  }

  /** The row with the highest cosine to `v` that `allowed` accepts (asked only of rows better than the best so far). */
  best(v: Float32Array, allowed: (id: string) => boolean): { id: string; cos: number } | null {
    const { data, dim, ids } = this;
    let bestCos = -Infinity;
    let bestId: string | null = null;
    for (let r = 0; r < ids.length; r++) {
      const id = ids[r];
      if (id === null || id === undefined) continue;
      let s = 0;
      const o = r * dim;
      for (let i = 0; i < dim; i++) s += v[i]! * data[o + i]!;
      if (s > bestCos && allowed(id)) {
        bestCos = s;
        bestId = id;
      }
    }
    return bestId === null ? null : { id: bestId, cos: bestCos };
  }
}

/** The persons of a collection as grouping sees them, with the running centre of each. */
export class Grouping {
  readonly persons = new Map<string, Person>();
  private readonly personOf = new Map<string, string>();
  private readonly centres = new Map<string, Centre>();
  private readonly rows = new CentreRows();
  private next = 1;
  /** Persons changed since the last takeChanged(): what must be written back. */
  private readonly changed = new Set<string>();
  private readonly removed = new Set<string>();

  constructor(
    persons: Iterable<Person>,
    private readonly faceOf: (id: string) => GroupingFace | undefined,
    readonly params: GroupingParams = DEFAULT_GROUPING,
  ) {
    for (const p of persons) {
      const n = Number(/^p(\d+)$/.exec(p.id)?.[1] ?? 0);
      if (n >= this.next) this.next = n + 1;
      // Faces since gone (their image removed or re-read) are dropped from the person.
      const faces = p.faces.filter((f) => this.faceOf(f) !== undefined);
      if (faces.length !== p.faces.length) this.changed.add(p.id);
      if (faces.length === 0 && !p.name) {
        this.removed.add(p.id);
        continue;
      }
      this.persons.set(p.id, { ...p, faces });
      for (const f of faces) this.personOf.set(f, p.id);
      this.recentre(p.id);
    }
  }

  person(faceId: string): string | undefined {
    return this.personOf.get(faceId);
  }

  /** Persons to write and person ids to delete since the last call. */
  takeChanged(): { put: Person[]; deleted: string[] } {
    const put = [...this.changed].filter((id) => this.persons.has(id)).map((id) => this.persons.get(id)!);
    const deleted = [...this.removed].filter((id) => !this.persons.has(id));
    this.changed.clear();
    this.removed.clear();
    return { put, deleted };
  }

  private recentre(id: string): void {
    const p = this.persons.get(id)!;
    const faces = p.faces.map((f) => this.faceOf(f)!).filter(Boolean);
    const good = faces.filter((f) => !f.low);
    const use = good.length > 0 ? good : faces;
    const dim = faces[0]?.embedding.length ?? 0;
    const sum = new Float32Array(dim);
    for (const f of use) for (let i = 0; i < dim; i++) sum[i] = sum[i]! + f.embedding[i]!;
    this.setCentre(id, { sum, good: good.length, count: use.length, unit: unit(sum) });
  }

  private newPerson(faces: string[] = []): Person {
    const p: Person = { id: `p${this.next++}`, faces };
    this.persons.set(p.id, p);
    for (const f of faces) this.personOf.set(f, p.id);
    this.recentre(p.id);
    this.changed.add(p.id);
    return p;
  }

  private addTo(id: string, face: GroupingFace): void {
    const p = this.persons.get(id)!;
    p.faces.push(face.id);
    this.personOf.set(face.id, id);
    const c = this.centres.get(id)!;
    if (!face.low && c.good === 0) this.recentre(id);
    else if (!face.low || c.good === 0) {
      for (let i = 0; i < c.sum.length; i++) c.sum[i] = c.sum[i]! + face.embedding[i]!;
      if (!face.low) c.good++;
      c.count++;
      c.unit = unit(c.sum);
      this.rows.set(id, c.unit);
    }
    this.changed.add(id);
  }

  private takeFrom(faceId: string): void {
    const id = this.personOf.get(faceId);
    if (!id) return;
    const p = this.persons.get(id)!;
    p.faces = p.faces.filter((f) => f !== faceId);
    if (p.pinned) p.pinned = p.pinned.filter((f) => f !== faceId);
    this.personOf.delete(faceId);
    this.changed.add(id);
    if (p.faces.length === 0 && !p.name) {
      this.persons.delete(id);
      this.dropCentre(id);
      this.removed.add(id);
    } else this.recentre(id);
  }

  private setCentre(id: string, c: Centre): void {
    this.centres.set(id, c);
    if (c.count > 0) this.rows.set(id, c.unit);
    else this.rows.delete(id);
  }

  private dropCentre(id: string): void {
    this.centres.delete(id);
    this.rows.delete(id);
  }

  /** The closest person a face may join, and its cosine. */
  private closest(face: GroupingFace, except?: string): { id: string; cos: number } | null {
    return this.rows.best(face.embedding, (id) => id !== except && !this.persons.get(id)!.rejected?.includes(face.id));
  }

  /** Places new faces, one by one in the order given; faces already placed are left where they are. */
  add(faces: Iterable<GroupingFace>): void {
    for (const face of faces) {
      if (this.personOf.has(face.id)) continue;
      const best = this.closest(face);
      if (best && best.cos >= (face.low ? this.params.joinLow : this.params.join)) this.addTo(best.id, face);
      else this.newPerson([face.id]);
    }
  }

  private mayMerge(a: Person, b: Person): boolean {
    if (a.name && b.name && a.name !== b.name) return false;
    if (a.apart?.includes(b.id) || b.apart?.includes(a.id)) return false;
    if (this.centres.get(a.id)!.good === 0 || this.centres.get(b.id)!.good === 0) return false;
    return true;
  }

  /**
   * The periodic pass: faces far from their person's centre are moved out (to the closest
   * person they may join, or a person of their own), then persons whose centres are close
   * enough are merged, closest pair first, until none is.
   */
  regroup(): { moved: number; merged: number } {
    let moved = 0;
    for (const p of [...this.persons.values()]) {
      if (p.faces.length < 3) continue;
      const pinned = new Set(p.pinned ?? []);
      const c = this.centres.get(p.id)!;
      for (const fid of [...p.faces]) {
        const f = this.faceOf(fid);
        if (!f || f.low || pinned.has(fid) || c.good < 3) continue;
        // The centre without this face.
        const rest = new Float32Array(c.sum.length);
        for (let i = 0; i < rest.length; i++) rest[i] = c.sum[i]! - f.embedding[i]!;
        if (dotN(f.embedding, unit(rest)) >= this.params.evict) continue;
        this.takeFrom(fid);
        const best = this.closest(f, p.id);
        if (best && best.cos >= this.params.join) this.addTo(best.id, f);
        else this.newPerson([fid]);
        moved++;
      }
    }
    let merged = 0;
    let dirty: Set<string> | null = null;
    // Rounds: every pair of centres close enough, closest first, merged while both still are
    // (a merge moves a centre: the next round looks again), until a round merges none.
    for (;;) {
      const list = [...this.persons.values()].filter((p) => this.centres.get(p.id)!.good > 0);
      const dim = list.length ? this.centres.get(list[0]!.id)!.unit.length : 0;
      const m = new Float32Array(list.length * dim);
      list.forEach((p, i) => m.set(this.centres.get(p.id)!.unit, i * dim));
      const pairs: Array<{ a: string; b: string; cos: number }> = [];
      // After the first round only pairs with a person merged in the last one can be new: the others' centres did not move.
      const isDirty = dirty ? list.map((p) => dirty!.has(p.id)) : null;
      for (let i = 0; i < list.length; i++) {
        for (let j = i + 1; j < list.length; j++) {
          if (isDirty && !isDirty[i] && !isDirty[j]) continue;
          let cos = 0;
          for (let d = 0, oi = i * dim, oj = j * dim; d < dim; d++) cos += m[oi + d]! * m[oj + d]!;
          if (cos >= this.params.merge) pairs.push({ a: list[i]!.id, b: list[j]!.id, cos });
        }
      }
      pairs.sort((x, y) => y.cos - x.cos);
      let round = 0;
      const touched = new Set<string>();
      const merges = new Set<string>();
      for (const { a, b } of pairs) {
        if (touched.has(a) || touched.has(b)) continue;
        const pa = this.persons.get(a);
        const pb = this.persons.get(b);
        if (!pa || !pb || !this.mayMerge(pa, pb)) continue;
        const keep = this.join(a, b, false);
        touched.add(a).add(b).add(keep.id);
        merges.add(keep.id);
        round++;
      }
      merged += round;
      if (round === 0) break;
      dirty = merges;
    }
    return { moved, merged };
  }

  /** Everything the faces of `from` and their decisions go to `into`; the named, larger or older keeps its id. */
  private join(a: string, b: string, byUser: boolean): Person {
    let keep = this.persons.get(a)!;
    let drop = this.persons.get(b)!;
    const rank = (p: Person) => (p.name ? 1e9 : 0) + p.faces.length;
    if (rank(drop) > rank(keep)) [keep, drop] = [drop, keep];
    keep.name ??= drop.name;
    for (const f of drop.faces) {
      keep.faces.push(f);
      this.personOf.set(f, keep.id);
    }
    const pinned = new Set([...(keep.pinned ?? []), ...(drop.pinned ?? []), ...(byUser ? keep.faces : [])]);
    if (pinned.size > 0) keep.pinned = [...pinned];
    const rejected = new Set([...(keep.rejected ?? []), ...(drop.rejected ?? [])]);
    if (rejected.size > 0) keep.rejected = [...rejected];
    const apart = new Set([...(keep.apart ?? []), ...(drop.apart ?? [])]);
    if (apart.size > 0) keep.apart = [...apart];
    this.persons.delete(drop.id);
    this.dropCentre(drop.id);
    this.removed.add(drop.id);
    this.changed.add(keep.id);
    this.recentre(keep.id);
    return keep;
  }

  // --- The user's decisions ---

  name(id: string, name: string): Person {
    const p = this.persons.get(id);
    if (!p) throw new Error(`no person ${id}`);
    p.name = name;
    this.changed.add(id);
    return p;
  }

  /** The user says these persons are one: merged, their faces pinned together. */
  merge(ids: readonly string[]): Person {
    let into = this.persons.get(ids[0]!)!;
    for (const id of ids.slice(1)) into = this.join(into.id, id, true);
    return into;
  }

  /**
   * The user says these faces are not `id`'s: they leave it for a person of their own
   * (pinned together there), never come back, and the two persons are kept apart.
   */
  split(id: string, faceIds: readonly string[]): Person {
    const from = this.persons.get(id)!;
    for (const f of faceIds) this.takeFrom(f);
    const out = this.newPerson([...faceIds]);
    out.pinned = [...faceIds];
    out.apart = [id];
    if (this.persons.has(id)) {
      from.rejected = [...new Set([...(from.rejected ?? []), ...faceIds])];
      from.apart = [...new Set([...(from.apart ?? []), out.id])];
      this.changed.add(id);
    }
    return out;
  }

  /** The user says one face is not this person (nothing said of whom it is): it leaves and never comes back. */
  removeFace(faceId: string): string | undefined {
    const id = this.personOf.get(faceId);
    if (!id) return undefined;
    const p = this.persons.get(id)!;
    this.takeFrom(faceId);
    const still = this.persons.get(id);
    if (still) still.rejected = [...new Set([...(p.rejected ?? []), faceId])];
    const face = this.faceOf(faceId);
    if (face) {
      const best = this.closest(face, id);
      if (best && best.cos >= (face.low ? this.params.joinLow : this.params.join)) this.addTo(best.id, face);
      else this.newPerson([faceId]);
    }
    return this.personOf.get(faceId);
  }

  /** Forgets a person: it is dropped, and the caller deletes its faces. */
  forget(id: string): string[] {
    const p = this.persons.get(id);
    if (!p) return [];
    this.persons.delete(id);
    this.dropCentre(id);
    for (const f of p.faces) this.personOf.delete(f);
    this.removed.add(id);
    return p.faces;
  }
}

function unit(v: Float32Array): Float32Array {
  let n = 0;
  for (const x of v) n += x * x;
  const inv = n > 0 ? 1 / Math.sqrt(n) : 0;
  return v.map((x) => x * inv);
}

/** Pairwise precision, recall and F1 of a grouping against the truth (pairs of items put together). */
export function pairwiseScores(predicted: readonly string[], truth: readonly string[]): { precision: number; recall: number; f1: number } {
  const count = (labels: readonly string[]) => {
    const m = new Map<string, number>();
    for (const l of labels) m.set(l, (m.get(l) ?? 0) + 1);
    return m;
  };
  const pairs = (m: Map<string, number>) => [...m.values()].reduce((s, n) => s + (n * (n - 1)) / 2, 0);
  const both = count(predicted.map((p, i) => `${p}\u0000${truth[i]}`));
  const tp = pairs(both);
  const predictedPairs = pairs(count(predicted));
  const truePairs = pairs(count(truth));
  const precision = predictedPairs > 0 ? tp / predictedPairs : 1;
  const recall = truePairs > 0 ? tp / truePairs : 1;
  return { precision, recall, f1: precision + recall > 0 ? (2 * precision * recall) / (precision + recall) : 0 };
}
