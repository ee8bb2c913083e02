import fs from 'node:fs';
import path from 'node:path';
import { parse } from 'csv-parse/sync';
import { VisorError, errorMessage } from '../../../src/errors.js';

/** One training example: a reference image, the text saying how the target differs, the target. */
export interface Triplet {
  /** Absolute image paths. */
  reference: string;
  text: string;
  target: string;
}

const REFERENCE = ['reference', 'ref', 'source', 'query', 'candidate'];
const TEXT = ['text', 'modification', 'caption', 'mod', 'instruction'];
const TARGET = ['target', 'goal'];

function column(header: string[], names: string[], what: string, file: string): number {
  const i = header.findIndex((h) => names.includes(h.trim().toLowerCase()));
  if (i < 0) throw new VisorError('CATALOGUE_INVALID', `${file}: no ${what} column (expected one of: ${names.join(', ')})`);
  return i;
}

/**
 * Reads a triplets CSV (or TSV): a header naming the reference, text and target columns
 * (`reference,text,target`; other columns ignored), image paths relative to `imagesDir`.
 */
export function readTriplets(file: string, imagesDir: string): Triplet[] {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8').replace(/^\uFEFF/, '');
  } catch (e) {
    throw new VisorError('CATALOGUE_INVALID', `cannot read triplets ${file}: ${errorMessage(e)}`, { cause: e });
  }
  let rows: string[][];
  try {
    rows = parse(text, { delimiter: path.extname(file).toLowerCase() === '.tsv' ? '\t' : ',', skip_empty_lines: true, relax_column_count: true });
  } catch (e) {
    throw new VisorError('CATALOGUE_INVALID', `${file}: ${errorMessage(e)}`, { cause: e });
  }
  const [header, ...body] = rows;
  if (!header) throw new VisorError('CATALOGUE_INVALID', `${file} is empty`);
  const r = column(header, REFERENCE, 'reference image', file);
  const t = column(header, TEXT, 'modification text', file);
  const g = column(header, TARGET, 'target image', file);
  const out = body.map((row, i) => {
    const ref = row[r]?.trim();
    const mod = row[t]?.trim();
    const tgt = row[g]?.trim();
    if (!ref || !mod || !tgt) throw new VisorError('CATALOGUE_INVALID', `${file}, triplet ${i + 1}: reference, text and target are all required`);
    return { reference: path.resolve(imagesDir, ref), text: mod, target: path.resolve(imagesDir, tgt) };
  });
  if (out.length === 0) throw new VisorError('CATALOGUE_INVALID', `${file} has no triplets`);
  return out;
}
