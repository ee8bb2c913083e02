import path from 'node:path';
import { wordText } from '../text/words.js';
import type { MetaRecord } from './types.js';

/**
 * The text keyword search sees for an item: the words of its file name ("redDress_front-2.jpg"
 * → "red Dress front 2") and its catalogue text values. Numbers stay out (they are filters),
 * and so do column names, which would match every row.
 */
export function searchTextFor(filePath: string, meta: MetaRecord): string {
  const name = wordText(path.basename(filePath, path.extname(filePath)));
  const values = Object.values(meta).filter((v): v is string => typeof v === 'string' && v.trim() !== '');
  return [name, ...values].join(' \n ');
}

/** The same, approximately, in SQL: used once to fill the column when an older index is upgraded. */
export const SEARCH_TEXT_SQL =
  "concat_ws(' ', regexp_replace(regexp_replace(path, '^.*/', ''), '[^A-Za-z0-9]+', ' ', 'g'), " +
  "regexp_replace(regexp_replace(meta, '\"[^\"]*\":', ' ', 'g'), '[{}\",]', ' ', 'g'))";
