/**
 * Search by who is in the photo: `persons` (names or ids: every one of them must be in the
 * photo) and `face` (a photo whose main face is compared with every stored face). Photos with
 * the persons rank by how large their faces are; photos by face, by the closest face's cosine.
 * The people filter keeps only the photos that match; this signal ranks them and says whose
 * face matched.
 */
import { faceMatches, rowsWithPersons, type PeopleView } from '../people-source.js';
import type { QueryContext, Signal, SignalOutcome } from '../signal.js';

export class PeopleSignal implements Signal {
  readonly name = 'people';

  constructor(private readonly view: PeopleView) {}

  async score(ctx: QueryContext): Promise<SignalOutcome | null> {
    const persons = ctx.query.persons ?? [];
    if (persons.length === 0 && ctx.query.face === undefined) return null;
    const { rows, snap } = await this.view.rows(ctx.ids);
    const weight = ctx.weights[this.name] ?? 1;
    const contributions: SignalOutcome['contributions'] = [];
    if (persons.length > 0) {
      const matched = rowsWithPersons(rows, this.view.resolve(snap, persons));
      // Larger faces first: the photo is more about them. 0 = not all of them there.
      const scores = Float32Array.from(matched, (m) => (m ? m.reduce((s, f) => s + f.size / (f.size + 100), 0) / m.length : 0));
      contributions.push({ name: this.name, scores, weight, polarity: 1, floor: 0 });
    }
    if (ctx.query.face !== undefined) {
      const { scores } = faceMatches(rows, await this.view.queryFace(ctx.query));
      contributions.push({ name: this.name, scores, weight, polarity: 1, floor: this.view.source.sameFace });
    }
    const any = contributions.some((c) => c.scores.some((x) => x > (c.floor ?? 0)));
    return { contributions, report: { name: this.name, understood: any, ...(any ? {} : { note: 'no photo has the persons or face asked for' }) } };
  }

  async explain(ctx: QueryContext, row: number): Promise<unknown> {
    const { rows, snap } = await this.view.rows(ctx.ids);
    const faces = rows[row] ?? [];
    const out: { persons?: Array<{ id: string; name?: string; face: string }>; face?: { cosine: number; face: string; person?: string; name?: string } } = {};
    const persons = ctx.query.persons ?? [];
    if (persons.length > 0) {
      const matched = rowsWithPersons([faces], this.view.resolve(snap, persons))[0];
      if (matched) out.persons = matched.map((f) => ({ id: f.person!, ...(snap.names.get(f.person!) ? { name: snap.names.get(f.person!)! } : {}), face: f.id }));
    }
    if (ctx.query.face !== undefined) {
      const { scores, best } = faceMatches([faces], await this.view.queryFace(ctx.query));
      const f = best[0];
      if (f) {
        const name = f.person ? snap.names.get(f.person) : undefined;
        out.face = { cosine: Math.round(scores[0]! * 1000) / 1000, face: f.id, ...(f.person ? { person: f.person } : {}), ...(name ? { name } : {}) };
      }
    }
    return out.persons || out.face ? out : undefined;
  }
}
