import fs from 'node:fs/promises';
import path from 'node:path';
import { parse } from 'csv-parse/sync';
import { VisorError, errorMessage } from '../errors.js';
import { metaColumnName } from '../store/columns.js';
import type { MetaColumnType, MetaRecord } from '../store/types.js';
import type { CrawlProblem } from './crawl.js';

/** A catalogue: a table of images (one per row) with any columns the user keeps about them. */
export interface Catalogue {
  file: string;
  entries: Array<{ path: string; meta: MetaRecord }>;
  /** Column name (as stored) → type inferred from all its values. */
  columns: Record<string, MetaColumnType>;
  problems: CrawlProblem[];
}

const CATALOGUE_EXTENSIONS = new Set(['.csv', '.tsv', '.jsonl', '.ndjson', '.json']);
const PATH_COLUMNS = ['path', 'file', 'filename', 'file_name', 'filepath', 'file_path', 'image', 'image_path', 'img', 'picture'];

export function isCatalogueFile(p: string): boolean {
  return CATALOGUE_EXTENSIONS.has(path.extname(p).toLowerCase());
}

type RawRow = Record<string, unknown>;
/** A parsed row with the line it starts on, for messages that point at the file. */
interface LocatedRow {
  row: RawRow;
  line: number;
}

function asRow(v: unknown, where: string): RawRow {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) {
    throw new VisorError('CATALOGUE_INVALID', `${where}: each row must be a JSON object, got ${v === null ? 'null' : Array.isArray(v) ? 'an array' : typeof v}`);
  }
  return v as RawRow;
}

function parseRows(text: string, ext: string): LocatedRow[] {
  text = text.replace(/^\uFEFF/, ''); // a byte-order mark is not part of the data
  if (ext === '.jsonl' || ext === '.ndjson') {
    const out: LocatedRow[] = [];
    text.split(/\r?\n/).forEach((raw, i) => {
      const line = raw.trim();
      if (line.length === 0) return;
      let v: unknown;
      try {
        v = JSON.parse(line);
      } catch (e) {
        throw new VisorError('CATALOGUE_INVALID', `line ${i + 1}: not JSON (${errorMessage(e)})`);
      }
      out.push({ row: asRow(v, `line ${i + 1}`), line: i + 1 });
    });
    return out;
  }
  if (ext === '.json') {
    const data = JSON.parse(text) as unknown;
    if (!Array.isArray(data)) throw new VisorError('CATALOGUE_INVALID', 'a JSON catalogue must be an array of objects');
    return data.map((v, i) => ({ row: asRow(v, `item ${i + 1}`), line: i + 1 }));
  }
  const records = parse(text, {
    columns: true,
    skip_empty_lines: true,
    trim: true,
    relax_column_count: true,
    delimiter: ext === '.tsv' ? '\t' : csvDelimiter(text),
    info: true,
  }) as Array<{ record: RawRow; info: { lines: number } }>;
  // csv-parse counts the line where a record ends; quoted cells may span lines, so report the start.
  let next = 2;
  return records.map(({ record, info }) => {
    const located = { row: record, line: next };
    next = info.lines + 1;
    return located;
  });
}

/** Spreadsheets in many locales save "CSV" with semicolons: a header with ';' and no ',' is read so. */
function csvDelimiter(text: string): ',' | ';' {
  const header = text.slice(0, text.search(/\r?\n|$/));
  return !header.includes(',') && header.includes(';') ? ';' : ',';
}

/** Decimal numbers only: "0x10", "1e", "Infinity" stay text. */
const DECIMAL = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;

function scalar(v: unknown): string | null {
  if (v === undefined || v === null) return null;
  if (typeof v === 'object') return JSON.stringify(v);
  const s = String(v).trim();
  return s === '' ? null : s;
}

/**
 * Reads a CSV, TSV, JSON Lines or JSON catalogue. Image paths are relative to the catalogue's
 * folder unless absolute. A column is numeric when every non-empty value is a number, so
 * filters like "price < 20" compare numbers, not text.
 */
export async function readCatalogue(file: string): Promise<Catalogue> {
  const abs = path.resolve(file);
  const ext = path.extname(abs).toLowerCase();
  let located: LocatedRow[];
  try {
    located = parseRows(await fs.readFile(abs, 'utf8'), ext);
  } catch (e) {
    if (e instanceof VisorError) throw new VisorError(e.code, `${abs}: ${e.message}`);
    throw new VisorError('CATALOGUE_INVALID', `cannot read catalogue ${abs}: ${errorMessage(e)}`, { cause: e });
  }
  const rows = located.map((l) => l.row);
  const fields = [...new Set(rows.flatMap((r) => Object.keys(r)))];
  const pathField = PATH_COLUMNS.map((c) => fields.find((f) => f.trim().toLowerCase() === c)).find((f) => f !== undefined);
  if (!pathField) {
    const found = fields.length ? `columns found: ${fields.join(', ')}` : 'no rows found';
    throw new VisorError('CATALOGUE_INVALID', `${abs}: no image path column (${found}); name one of: ${PATH_COLUMNS.join(', ')}`);
  }
  const metaFields = fields.filter((f) => f !== pathField);
  // Distinct headers that sanitise to one name ("Price", "price ") keep their data: price, price_2.
  const names = new Map<string, string>();
  const taken = new Set<string>();
  for (const f of metaFields) {
    const base = metaColumnName(f);
    let name = base;
    for (let n = 2; taken.has(name); n++) name = `${base}_${n}`;
    taken.add(name);
    names.set(f, name);
  }
  const columns: Record<string, MetaColumnType> = {};
  for (const f of metaFields) {
    const values = rows.map((r) => scalar(r[f])).filter((v): v is string => v !== null);
    columns[names.get(f)!] = values.length > 0 && values.every((v) => DECIMAL.test(v)) ? 'number' : 'string';
  }
  const base = path.dirname(abs);
  const seen = new Set<string>();
  const catalogue: Catalogue = { file: abs, entries: [], columns, problems: [] };
  located.forEach(({ row, line }) => {
    const rel = scalar(row[pathField]);
    if (!rel) {
      catalogue.problems.push({ path: `${abs}:${line}`, reason: 'catalogue row has no image path' });
      return;
    }
    const p = path.resolve(base, rel);
    if (seen.has(p)) {
      catalogue.problems.push({ path: p, reason: 'listed twice in the catalogue; first row kept' });
      return;
    }
    seen.add(p);
    const meta: MetaRecord = {};
    for (const f of metaFields) {
      const col = names.get(f)!;
      const v = scalar(row[f]);
      meta[col] = v === null ? null : columns[col] === 'number' ? Number(v) : v;
    }
    catalogue.entries.push({ path: p, meta });
  });
  return catalogue;
}
