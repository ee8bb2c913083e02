/**
 * Filters over what the store's item table does not hold (counts of detected objects, colours):
 * a plug-in claims the columns it knows, the query's `where` is split at its top-level ANDs, the
 * conjuncts naming those columns are evaluated by the plug-in, and the rest go to the store as
 * before. An OR joining a plug-in's column with a catalogue column cannot be split: it is refused.
 */
import { VisorError } from '../errors.js';
import { readQuoted } from '../store/sql-text.js';
import type { Query } from './query.js';

/** A filter evaluated outside the store, over one snapshot of the rows. */
export interface RowFilter {
  readonly name: string;
  /** Whether this filter evaluates `column` (e.g. "person_count"). */
  owns(column: string): boolean;
  /** Whether the query asks this filter for something besides where conjuncts (its own options). */
  active?(query: Query): boolean;
  /**
   * Per row of `ids`, 1 where the row passes `conjuncts` (the where parts naming its columns)
   * and the query's own options of this filter. Throws FILTER_INVALID when it cannot evaluate them.
   */
  admit(query: Query, conjuncts: readonly string[], ids: readonly string[]): Promise<Uint8Array>;
}

interface Piece {
  kind: 'word' | 'quoted' | 'string' | 'other' | 'open' | 'close';
  text: string;
  start: number;
  end: number;
}

/** The pieces of a filter that splitting needs: words, quoted identifiers, strings, parentheses. */
function pieces(where: string): Piece[] {
  const out: Piece[] = [];
  for (let i = 0; i < where.length;) {
    const c = where[i]!;
    if (/\s/.test(c)) {
      i++;
    } else if (c === "'" || c === '"') {
      const q = readQuoted(where, i);
      out.push({ kind: c === "'" ? 'string' : 'quoted', text: q.text, start: i, end: q.end });
      i = q.end;
    } else if (/[A-Za-z_]/.test(c)) {
      const m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(where.slice(i))!;
      out.push({ kind: 'word', text: m[0], start: i, end: i + m[0].length });
      i += m[0].length;
    } else {
      out.push({ kind: c === '(' ? 'open' : c === ')' ? 'close' : 'other', text: c, start: i, end: i + 1 });
      i++;
    }
  }
  return out;
}

const SQL_WORDS = new Set(['and', 'or', 'not', 'in', 'like', 'is', 'null', 'true', 'false', 'between']);

/** The columns a filter (part) names: its identifiers, quoted or not. */
export function filterColumns(where: string): string[] {
  return pieces(where)
    .filter((p) => p.kind === 'quoted' || (p.kind === 'word' && !SQL_WORDS.has(p.text.toLowerCase())))
    .map((p) => p.text);
}

/** A filter's top-level AND-ed parts ("a < 1 AND (b OR c)" → "a < 1", "(b OR c)"); BETWEEN's AND is not one. */
export function splitAnd(where: string): string[] {
  const ps = pieces(where);
  const parts: string[] = [];
  let depth = 0;
  let from = 0;
  let between = false;
  for (const p of ps) {
    if (p.kind === 'open') depth++;
    else if (p.kind === 'close') depth--;
    else if (p.kind === 'word' && depth === 0) {
      const w = p.text.toLowerCase();
      if (w === 'between') between = true;
      else if (w === 'and') {
        if (between) between = false;
        else {
          parts.push(where.slice(from, p.start).trim());
          from = p.end;
        }
      }
    }
  }
  parts.push(where.slice(from).trim());
  return parts.filter(Boolean);
}

/** A where split between the store and the row filters, and the filters the query uses. */
export interface SplitWhere {
  /** What the store evaluates (undefined: nothing). */
  store?: string;
  /** Per filter it uses: the conjuncts it evaluates. */
  filters: Array<{ filter: RowFilter; conjuncts: string[] }>;
}

export function splitWhere(query: Query, filters: readonly RowFilter[]): SplitWhere {
  const used = new Map<RowFilter, string[]>(filters.filter((f) => f.active?.(query)).map((f) => [f, []]));
  if (!query.where || filters.length === 0) return { store: query.where, filters: [...used].map(([filter, conjuncts]) => ({ filter, conjuncts })) };
  const rest: string[] = [];
  for (const part of splitAnd(query.where)) {
    const columns = filterColumns(part);
    const owners = new Set(columns.map((c) => filters.find((f) => f.owns(c))));
    if (owners.size === 1 && !owners.has(undefined)) {
      const f = [...owners][0]!;
      used.set(f, [...(used.get(f) ?? []), part]);
    } else if ([...owners].some((o) => o !== undefined)) {
      const own = columns.filter((c) => filters.some((f) => f.owns(c)));
      throw new VisorError(
        'FILTER_INVALID',
        `invalid filter ${JSON.stringify(query.where)}: ${JSON.stringify(part)} mixes ${[...new Set(own)].join(', ')} with other columns; ` +
          'these columns are counted from the images, not stored with the items, so join them to the rest with AND at the top level ' +
          `(e.g. "${own[0]} >= 1 AND price < 20"), not with OR`,
      );
    } else rest.push(part);
  }
  const store = rest.length === 0 ? undefined : rest.length === splitAnd(query.where).length ? query.where : rest.map((p) => `(${p})`).join(' AND ');
  return { store, filters: [...used].map(([filter, conjuncts]) => ({ filter, conjuncts })) };
}
