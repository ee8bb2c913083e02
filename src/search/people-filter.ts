/**
 * The people filter: only photos with every person asked for (`persons`), only photos with a
 * face close enough to the query face (`face`), and `face_count` in `where` ("face_count >= 3").
 */
import { VisorError } from '../errors.js';
import type { RowFilter } from './filter.js';
import { faceMatches, rowsWithPersons, type PeopleView } from './people-source.js';
import type { Query } from './query.js';

const COUNT = /^\s*\(?\s*"?face_count"?\s*(>=|<=|<>|!=|=|>|<)\s*(\d+)\s*\)?\s*$/i;

const compare: Record<string, (a: number, b: number) => boolean> = {
  '>=': (a, b) => a >= b,
  '<=': (a, b) => a <= b,
  '>': (a, b) => a > b,
  '<': (a, b) => a < b,
  '=': (a, b) => a === b,
  '!=': (a, b) => a !== b,
  '<>': (a, b) => a !== b,
};

export class PeopleFilter implements RowFilter {
  readonly name = 'people';

  constructor(private readonly view: PeopleView) {}

  owns(column: string): boolean {
    return column.toLowerCase() === 'face_count';
  }

  active(query: Query): boolean {
    return (query.persons?.length ?? 0) > 0 || query.face !== undefined;
  }

  async admit(query: Query, conjuncts: readonly string[], ids: readonly string[]): Promise<Uint8Array> {
    const { rows, snap } = await this.view.rows(ids);
    const out = new Uint8Array(ids.length).fill(1);
    for (const c of conjuncts) {
      const m = COUNT.exec(c);
      if (!m) throw new VisorError('FILTER_INVALID', `face_count takes a comparison with a number ("face_count >= 2"), not ${JSON.stringify(c)}`);
      const test = compare[m[1]!]!;
      const n = Number(m[2]);
      rows.forEach((faces, r) => {
        if (!test(faces.length, n)) out[r] = 0;
      });
    }
    if ((query.persons?.length ?? 0) > 0) {
      rowsWithPersons(rows, this.view.resolve(snap, query.persons!)).forEach((m, r) => {
        if (!m) out[r] = 0;
      });
    }
    if (query.face !== undefined) {
      const { scores } = faceMatches(rows, await this.view.queryFace(query));
      scores.forEach((s, r) => {
        if (s < this.view.source.sameFace) out[r] = 0;
      });
    }
    return out;
  }
}
