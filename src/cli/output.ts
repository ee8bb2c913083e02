import fs from 'node:fs';
import path from 'node:path';
import { VisorError, errorMessage } from '../errors.js';
import type { MetaRecord } from '../store/types.js';

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

/** A path as the user would type it: relative to the working directory when under it. */
export function displayPath(p: string): string {
  const rel = path.relative(process.cwd(), p);
  return rel && !rel.startsWith('..') && !path.isAbsolute(rel) ? rel : p;
}

export function formatBytes(n: number): string {
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) {
    n /= 1024;
    i++;
  }
  return `${n.toFixed(i === 0 ? 0 : 1)} ${units[i]}`;
}

export function formatMeta(meta: MetaRecord, max = 60): string {
  const s = Object.entries(meta)
    .filter(([, v]) => v !== null && v !== '')
    .map(([k, v]) => `${k}=${v}`)
    .join(' ');
  return s.length > max ? `${s.slice(0, max - 1)}…` : s;
}

/** Left-aligned columns; the last column is not padded. */
export function table(rows: string[][]): string {
  if (rows.length === 0) return '';
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length)));
  return rows
    .map((r) =>
      r
        .map((cell, c) => (c === r.length - 1 ? cell : cell.padEnd(widths[c]!)))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

/**
 * Makes the folder an output file goes in, before the long work that produces it (as `visor
 * train joint` does): a folder that cannot be made fails now, not after the run.
 */
export function prepareOutFile(file: string, flag = '--out'): string {
  const abs = path.resolve(file);
  try {
    fs.mkdirSync(path.dirname(abs), { recursive: true });
  } catch (e) {
    throw new VisorError('QUERY_INVALID', `${flag} ${file}: cannot make its folder (${errorMessage(e)})`, { cause: e });
  }
  return abs;
}
