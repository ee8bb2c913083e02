import type { VisorError } from '../../errors.js';
import { filterInvalid, unknownColumn } from '../errors.js';
import { readQuoted } from '../sql-text.js';

/**
 * The SQL filters the memory store understands: a small subset of what LanceDB (DataFusion)
 * takes — comparisons (=, !=, <>, <, <=, >, >=), AND, OR, NOT, parentheses, IN (…), LIKE,
 * IS [NOT] NULL, BETWEEN, string, number, TRUE/FALSE/NULL literals, over scalar columns. NULL
 * compares as SQL does (unknown; a row is kept only where the filter is true). Errors are the
 * LanceDB store's: FILTER_INVALID, and for an unknown column the same words.
 */

export type FilterValue = string | number | boolean | null;
type ColumnType = 'string' | 'number';
/** A filter's view of one row: its scalar columns by name. */
export type FilterRow = Readonly<Record<string, string | number | null>>;
export type Predicate = (row: FilterRow) => boolean;

interface Token {
  kind: 'word' | 'quoted' | 'string' | 'number' | 'symbol' | 'end';
  text: string;
}

const SYMBOLS = ['<=', '>=', '!=', '<>', '=', '<', '>', '(', ')', ',', '-'];

function tokenize(where: string, fail: (reason: string) => VisorError): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < where.length) {
    const c = where[i]!;
    if (/\s/.test(c)) {
      i++;
    } else if (c === "'" || c === '"') {
      const q = readQuoted(where, i);
      if (!q.closed) throw fail(`unterminated ${c === "'" ? 'string literal' : 'quoted identifier'} at ${i + 1}`);
      out.push({ kind: c === "'" ? 'string' : 'quoted', text: q.text });
      i = q.end;
    } else if (/[0-9.]/.test(c)) {
      const m = /^(\d+\.?\d*|\.\d+)(e[+-]?\d+)?/i.exec(where.slice(i));
      if (!m) throw fail(`unexpected ${JSON.stringify(c)} at ${i + 1}`);
      out.push({ kind: 'number', text: m[0] });
      i += m[0].length;
    } else if (/[A-Za-z_]/.test(c)) {
      const m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(where.slice(i))!;
      out.push({ kind: 'word', text: m[0] });
      i += m[0].length;
    } else {
      const sym = SYMBOLS.find((s) => where.startsWith(s, i));
      if (!sym) throw fail(`unexpected ${JSON.stringify(c)} at ${i + 1}`);
      out.push({ kind: 'symbol', text: sym });
      i += sym.length;
    }
  }
  out.push({ kind: 'end', text: 'EOF' });
  return out;
}

/** A compiled expression: its static type and how to evaluate it on a row. */
interface Expr {
  type: 'bool' | ColumnType | 'null';
  /** The column it reads, for messages. */
  text: string;
  eval: (row: FilterRow) => FilterValue;
}

const KEYWORDS = new Set(['and', 'or', 'not', 'in', 'like', 'is', 'null', 'true', 'false', 'between']);

/**
 * Compiles a filter against the columns a store has (scalar columns with their types; `lists`
 * names columns that exist but cannot be compared). Throws FILTER_INVALID when it cannot run.
 */
export function compileWhere(
  where: string,
  columns: Readonly<Record<string, ColumnType>>,
  catalogueColumns: readonly string[],
  lists: ReadonlySet<string> = new Set(),
): Predicate {
  const fail = (reason: string) => filterInvalid(where, reason);
  const tokens = tokenize(where, fail);
  let at = 0;
  const peek = () => tokens[at]!;
  const isWord = (w: string) => peek().kind === 'word' && peek().text.toLowerCase() === w;
  const isSymbol = (s: string) => peek().kind === 'symbol' && peek().text === s;
  const expected = (what: string) => fail(`Expected: ${what}, found: ${peek().text}`);
  const expectSymbol = (s: string) => {
    if (!isSymbol(s)) throw expected(s);
    at++;
  };

  const logical = (a: Expr, what: string): Expr => {
    if (a.type !== 'bool' && a.type !== 'null') throw fail(`${a.text} is not true or false (${what} needs a condition)`);
    return a;
  };

  function or(): Expr {
    let left = and();
    while (isWord('or')) {
      at++;
      const a = logical(left, 'OR');
      const b = logical(and(), 'OR');
      left = {
        type: 'bool',
        text: `${a.text} OR ${b.text}`,
        eval: (r) => {
          const x = a.eval(r);
          if (x === true) return true;
          const y = b.eval(r);
          return y === true ? true : x === null || y === null ? null : false;
        },
      };
    }
    return left;
  }

  function and(): Expr {
    let left = not();
    while (isWord('and')) {
      at++;
      const a = logical(left, 'AND');
      const b = logical(not(), 'AND');
      left = {
        type: 'bool',
        text: `${a.text} AND ${b.text}`,
        eval: (r) => {
          const x = a.eval(r);
          if (x === false) return false;
          const y = b.eval(r);
          return y === false ? false : x === null || y === null ? null : true;
        },
      };
    }
    return left;
  }

  function not(): Expr {
    if (!isWord('not')) return predicate();
    at++;
    const a = logical(not(), 'NOT');
    return { type: 'bool', text: `NOT ${a.text}`, eval: (r) => negate(a.eval(r)) };
  }

  function predicate(): Expr {
    const left = operand();
    if (peek().kind === 'symbol' && ['=', '!=', '<>', '<', '<=', '>', '>='].includes(peek().text)) {
      const op = tokens[at++]!.text;
      return compare(left, op, operand());
    }
    const negated = isWord('not') && tokens[at + 1]?.kind === 'word' && ['in', 'like', 'between'].includes(tokens[at + 1]!.text.toLowerCase());
    if (negated) at++;
    const wrap = (e: Expr): Expr => (negated ? { type: 'bool', text: `NOT ${e.text}`, eval: (r) => negate(e.eval(r)) } : e);
    if (isWord('in')) {
      at++;
      expectSymbol('(');
      const list: Expr[] = [operand()];
      while (isSymbol(',')) {
        at++;
        list.push(operand());
      }
      expectSymbol(')');
      const tests = list.map((e) => compare(left, '=', e));
      return wrap({
        type: 'bool',
        text: `${left.text} IN (…)`,
        eval: (r) => {
          let unknown = false;
          for (const t of tests) {
            const v = t.eval(r);
            if (v === true) return true;
            if (v === null) unknown = true;
          }
          return unknown ? null : false;
        },
      });
    }
    if (isWord('like')) {
      at++;
      const pattern = operand();
      if (pattern.type !== 'string' || left.type !== 'string') throw fail(`LIKE compares text with a text pattern`);
      const p = pattern.eval({});
      const re = new RegExp(
        `^${String(p)
          .replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
          .replace(/%/g, '.*')
          .replace(/_/g, '.')}$`,
        's',
      );
      return wrap({
        type: 'bool',
        text: `${left.text} LIKE …`,
        eval: (r) => {
          const v = left.eval(r);
          return v === null ? null : re.test(String(v));
        },
      });
    }
    if (isWord('between')) {
      at++;
      const low = operand();
      if (!isWord('and')) throw expected('AND');
      at++;
      const high = operand();
      const ge = compare(left, '>=', low);
      const le = compare(left, '<=', high);
      return wrap({
        type: 'bool',
        text: `${left.text} BETWEEN …`,
        eval: (r) => {
          const a = ge.eval(r);
          const b = le.eval(r);
          return a === false || b === false ? false : a === null || b === null ? null : true;
        },
      });
    }
    if (isWord('is')) {
      at++;
      const isNot = isWord('not');
      if (isNot) at++;
      if (!isWord('null')) throw expected('NULL');
      at++;
      return { type: 'bool', text: `${left.text} IS${isNot ? ' NOT' : ''} NULL`, eval: (r) => (left.eval(r) === null) !== isNot };
    }
    return left;
  }

  function operand(): Expr {
    const t = peek();
    if (t.kind === 'symbol' && t.text === '(') {
      at++;
      const e = or();
      expectSymbol(')');
      return e;
    }
    if (t.kind === 'symbol' && t.text === '-' && tokens[at + 1]?.kind === 'number') {
      at += 2;
      const v = -Number(tokens[at - 1]!.text);
      return { type: 'number', text: String(v), eval: () => v };
    }
    if (t.kind === 'number') {
      at++;
      const v = Number(t.text);
      return { type: 'number', text: t.text, eval: () => v };
    }
    if (t.kind === 'string') {
      at++;
      return { type: 'string', text: `'${t.text}'`, eval: () => t.text };
    }
    if (t.kind === 'word' && KEYWORDS.has(t.text.toLowerCase())) {
      const w = t.text.toLowerCase();
      if (w === 'true' || w === 'false') {
        at++;
        return { type: 'bool', text: w.toUpperCase(), eval: () => w === 'true' };
      }
      if (w === 'null') {
        at++;
        return { type: 'null', text: 'NULL', eval: () => null };
      }
      throw expected('an expression');
    }
    if (t.kind === 'word' || t.kind === 'quoted') {
      at++;
      // Unquoted names are folded to lower case, as in SQL.
      const name = t.kind === 'word' ? t.text.toLowerCase() : t.text;
      if (isSymbol('(')) throw fail(`function ${name}() is not supported here`);
      const type = columns[name];
      if (!type) {
        if (lists.has(name)) throw fail(`column ${name} holds lists and cannot be compared`);
        throw fail(unknownColumn(name, catalogueColumns));
      }
      return { type, text: name, eval: (r) => r[name] ?? null };
    }
    throw expected('an expression');
  }

  function compare(a: Expr, op: string, b: Expr): Expr {
    if (a.type !== 'null' && b.type !== 'null' && a.type !== b.type) {
      throw fail(`cannot compare ${a.text} (${describe(a.type)}) with ${b.text} (${describe(b.type)})`);
    }
    const test = COMPARE[op]!;
    return {
      type: 'bool',
      text: `${a.text} ${op} ${b.text}`,
      eval: (r) => {
        const x = a.eval(r);
        const y = b.eval(r);
        return x === null || y === null ? null : test(x, y);
      },
    };
  }

  const root = or();
  if (peek().kind !== 'end') throw expected('end of filter');
  if (root.type !== 'bool' && root.type !== 'null') throw fail(`the filter ${where} does not return a boolean`);
  return (row) => root.eval(row) === true;
}

function negate(v: FilterValue): FilterValue {
  return v === null ? null : !v;
}

function describe(type: Expr['type']): string {
  return type === 'bool' ? 'true/false' : type === 'string' ? 'text' : type;
}

const COMPARE: Record<string, (x: string | number | boolean, y: string | number | boolean) => boolean> = {
  '=': (x, y) => x === y,
  '!=': (x, y) => x !== y,
  '<>': (x, y) => x !== y,
  '<': (x, y) => x < y,
  '<=': (x, y) => x <= y,
  '>': (x, y) => x > y,
  '>=': (x, y) => x >= y,
};
