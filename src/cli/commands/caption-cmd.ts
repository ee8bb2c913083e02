import fs from 'node:fs';
import { parse } from 'csv-parse/sync';
import { Collection } from '../../collection.js';
import { VisorError } from '../../errors.js';
import { printJson, table } from '../output.js';
import type { GlobalOptions } from '../run.js';

export interface CaptionOptions extends GlobalOptions {
  corpus: string;
  textModel?: string;
  k: number;
}

/** Captions from a CSV (a `caption` column) or a plain text file (one per line), de-duplicated. */
function readCorpus(file: string): string[] {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    const why = (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message;
    throw new VisorError('QUERY_INVALID', `cannot read corpus ${file}: ${why}`);
  }
  let captions: string[];
  if (/\.(csv|tsv)$/i.test(file)) {
    const rows = parse(text, {
      columns: (h: string[]) => h.map((c) => c.trim().toLowerCase()),
      skip_empty_lines: true,
      bom: true,
      delimiter: file.endsWith('.tsv') ? '\t' : ',',
    }) as Array<Record<string, string>>;
    if (rows[0] && !('caption' in rows[0])) throw new VisorError('QUERY_INVALID', `${file} has no caption column`);
    captions = rows.map((r) => (r.caption ?? '').trim());
  } else captions = text.split('\n').map((l) => l.trim());
  return [...new Set(captions.filter((c) => c.length > 0))];
}

/** image → text: the captions of a corpus that best describe a photo. */
export async function captionCommand(image: string, o: CaptionOptions): Promise<void> {
  const corpus = readCorpus(o.corpus);
  if (corpus.length === 0) throw new VisorError('QUERY_INVALID', `no captions in ${o.corpus}`);
  const { captionImage } = await import('../../search/caption.js');
  // An index is only consulted for its recorded text model; none is needed with --text-model.
  const collection = o.textModel ? null : await Collection.open({ db: o.db });
  try {
    const ref = o.textModel ?? (collection!.store.manifest.settings.textModel as string | undefined);
    if (!ref) throw new VisorError('QUERY_INVALID', 'give --text-model <file.joint> (or index with --text-model first)');
    const results = await captionImage(image, corpus, { textModel: ref, k: o.k });
    if (o.json) printJson({ image, corpus: o.corpus, results });
    else process.stdout.write(`${table([['#', 'score', 'caption'], ...results.map((r) => [String(r.rank), r.score.toFixed(3), r.caption])])}\n`);
  } finally {
    await collection?.close();
  }
}
