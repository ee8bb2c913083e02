import { Collection } from '../../collection.js';
import { VisorError } from '../../errors.js';
import type { SearchResult } from '../../search/results.js';
import { displayPath, formatMeta, printJson, table } from '../output.js';
import type { GlobalOptions } from '../run.js';

export interface SearchCommandOptions extends GlobalOptions {
  image?: string;
  like?: string;
  k: number;
  offset: number;
  where?: string;
  exact?: boolean;
  excludeSelf?: boolean;
  textModel?: string;
}

function printResults(results: SearchResult[]): void {
  if (results.length === 0) {
    process.stdout.write('No results.\n');
    return;
  }
  const rows = [['#', 'score', 'path', 'size', 'id', 'metadata']];
  for (const r of results) {
    const dup = r.paths.length > 1 ? ` (+${r.paths.length - 1} duplicate${r.paths.length > 2 ? 's' : ''})` : '';
    rows.push([String(r.rank), r.score.toFixed(3), displayPath(r.path) + dup, `${r.width}×${r.height}`, r.id.slice(0, 12), formatMeta(r.meta)]);
  }
  process.stdout.write(`${table(rows)}\n`);
}

export async function searchCommand(words: string[], o: SearchCommandOptions): Promise<void> {
  const text = words.join(' ').trim();
  if (!o.image && !o.like && !text) throw new VisorError('QUERY_INVALID', 'give a query: text, --image <file> or --like <id>');
  if ([o.image, o.like, text].filter(Boolean).length > 1) throw new VisorError('QUERY_INVALID', 'give one query: text, --image or --like');
  const collection = await Collection.open({ db: o.db });
  try {
    const opts = { k: o.k, offset: o.offset, where: o.where, exact: o.exact, excludeSelf: o.excludeSelf };
    const results = text
      ? await collection.searchText(text, { ...opts, textModel: o.textModel })
      : o.image
        ? await collection.searchImage(o.image, opts)
        : await collection.searchSimilar(o.like!, opts);
    if (o.json) printJson({ query: { text: text || undefined, image: o.image, like: o.like, ...opts }, results });
    else printResults(results);
  } finally {
    await collection.close();
  }
}
