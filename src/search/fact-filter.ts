/**
 * Filters on what the images show: `person_count >= 3`, `dog_count = 0 OR cat_count >= 1` over
 * the detector's counts, and `Query.colour` (items whose image, or an object in it, has that
 * colour). Evaluated over the facts, beside the store's filter on catalogue columns.
 */
import { BASIC_COLOURS, countColumn, countObjects, type BasicColour, type ImageFacts } from '../core/facts.js';
import { VisorError } from '../errors.js';
import { COLOUR_WORDS } from './facts-query.js';
import type { FactsView } from './facts-source.js';
import type { RowFilter } from './filter.js';
import type { Query } from './query.js';

/** A colour is an image's when it names at least this share of the image or of one object's box. */
export const MIN_COLOUR_SHARE = 0.15;

/** The basic colour a `colour` option names (synonyms accepted: "gray", "navy"), or QUERY_INVALID. */
export function colourOption(word: string): BasicColour {
  const c = COLOUR_WORDS.get(word.trim().toLowerCase());
  if (!c) throw new VisorError('QUERY_INVALID', `unknown colour ${JSON.stringify(word)}: use one of ${BASIC_COLOURS.join(', ')}`);
  return c;
}

/** Whether an image shows a colour: in its main colours or an object's, above MIN_COLOUR_SHARE. */
export function hasColour(f: ImageFacts | undefined, colour: BasicColour): boolean {
  if (!f) return false;
  const above = (cs: ImageFacts['colours']) => (cs ?? []).some((c) => c.name === colour && c.share >= MIN_COLOUR_SHARE);
  return above(f.colours) || (f.objects ?? []).some((o) => above(o.colours));
}

type Counts = (row: number) => Record<string, number> | null;
type Node = (counts: Record<string, number>) => boolean;

/** Compiles one where part over count columns: comparisons with numbers, BETWEEN, AND, OR, NOT, parentheses. */
export function compileCounts(part: string, whole: string, labelOf: (column: string) => string | undefined): Node {
  const fail = (why: string) => new VisorError('FILTER_INVALID', `invalid filter ${JSON.stringify(whole)}: ${why}`);
  const toks = part.match(/\d+(?:\.\d+)?|[A-Za-z_][A-Za-z0-9_]*|"[^"]*"|<=|>=|!=|<>|[=<>()]|\S/g) ?? [];
  let i = 0;
  const peek = () => toks[i]?.toLowerCase();
  const take = () => toks[i++];
  const column = (): string => {
    const t = take();
    const name = t?.startsWith('"') ? t.slice(1, -1) : t;
    const label = name ? labelOf(name) : undefined;
    if (!name || label === undefined) throw fail(`expected a count column (person_count, dog_count…), got ${JSON.stringify(t ?? 'the end')}`);
    return label;
  };
  const number = (): number => {
    const t = take();
    if (t === undefined || !/^\d+(\.\d+)?$/.test(t)) throw fail(`a count is compared with a number, got ${JSON.stringify(t ?? 'the end')}`);
    return Number(t);
  };
  const compare: Record<string, (a: number, b: number) => boolean> = {
    '=': (a, b) => a === b,
    '!=': (a, b) => a !== b,
    '<>': (a, b) => a !== b,
    '<': (a, b) => a < b,
    '<=': (a, b) => a <= b,
    '>': (a, b) => a > b,
    '>=': (a, b) => a >= b,
  };
  const primary = (): Node => {
    if (peek() === '(') {
      take();
      const e = or();
      if (take() !== ')') throw fail('a parenthesis is not closed');
      return e;
    }
    if (peek() === 'not') {
      take();
      const e = primary();
      return (c) => !e(c);
    }
    const label = column();
    const op = peek();
    if (op === 'between') {
      take();
      const lo = number();
      if (peek() !== 'and') throw fail('BETWEEN needs AND');
      take();
      const hi = number();
      return (c) => (c[label] ?? 0) >= lo && (c[label] ?? 0) <= hi;
    }
    const cmp = op ? compare[op] : undefined;
    if (!cmp) throw fail(`expected a comparison after the count column, got ${JSON.stringify(toks[i] ?? 'the end')}`);
    take();
    const n = number();
    return (c) => cmp(c[label] ?? 0, n);
  };
  const and = (): Node => {
    let e = primary();
    while (peek() === 'and') {
      take();
      const [l, r] = [e, primary()];
      e = (c) => l(c) && r(c);
    }
    return e;
  };
  const or = (): Node => {
    let e = and();
    while (peek() === 'or') {
      take();
      const [l, r] = [e, and()];
      e = (c) => l(c) || r(c);
    }
    return e;
  };
  const e = or();
  if (i < toks.length) throw fail(`unexpected ${JSON.stringify(toks[i])}`);
  return e;
}

export class FactFilter implements RowFilter {
  readonly name = 'facts';
  private readonly columns: ReadonlyMap<string, string>;

  constructor(
    private readonly facts: FactsView,
    labels: readonly string[],
    /** Catalogue columns: one named like a count stays the store's. */
    private readonly catalogueColumns: () => ReadonlySet<string>,
  ) {
    this.columns = new Map(labels.map((l) => [countColumn(l), l]));
  }

  owns(column: string): boolean {
    return this.columns.has(column.toLowerCase()) && !this.catalogueColumns().has(column);
  }

  active(query: Query): boolean {
    return query.colour !== undefined;
  }

  async admit(query: Query, conjuncts: readonly string[], ids: readonly string[]): Promise<Uint8Array> {
    const colour = query.colour === undefined ? undefined : colourOption(query.colour);
    const tests = conjuncts.map((p) => compileCounts(p, query.where ?? p, (c) => this.columns.get(c.toLowerCase())));
    const rows = await this.facts.rows(ids);
    if (tests.length && !rows.some((f) => f?.objects)) {
      throw new VisorError(
        'FILTER_INVALID',
        `invalid filter ${JSON.stringify(query.where)}: object counts come from the objects stage, which has not read this collection's images; index them with it first`,
      );
    }
    if (colour && !rows.some((f) => f?.colours)) {
      throw new VisorError('QUERY_INVALID', `no colours are known for this collection's images: index them with the colours stage first`);
    }
    const counts: Counts = (r) => {
      const objects = rows[r]?.objects;
      return objects ? countObjects(objects) : null;
    };
    const mask = new Uint8Array(ids.length);
    for (let r = 0; r < ids.length; r++) {
      if (colour && !hasColour(rows[r], colour)) continue;
      if (tests.length) {
        // An image the objects stage has not read has unknown counts: left out, as SQL leaves NULL out.
        const c = counts(r);
        if (!c || !tests.every((t) => t(c))) continue;
      }
      mask[r] = 1;
    }
    return mask;
  }
}
