import path from 'node:path';
import { isRemoteDb } from '../../config.js';
import type { TextLine } from '../../core/facts.js';
import { errorMessage } from '../../errors.js';
import { readingOrder } from '../../facts/summary.js';
import { readQueryImage } from '../../search/read-query-image.js';
import { displayPath, printJson } from '../output.js';
import type { GlobalOptions } from '../run.js';

export interface TextCommandOptions extends GlobalOptions {
  id?: boolean;
}

interface TextResult {
  image: string;
  /** Size of the image the boxes refer to. */
  width?: number;
  height?: number;
  text?: TextLine[];
  error?: string;
}

/**
 * `visor text`: the text read in images — an indexed item's as stored when it was indexed (read
 * now when its text stage did not run), any other file's read now.
 */
export async function textCommand(targets: string[], o: TextCommandOptions): Promise<number> {
  const { Collection } = await import('../../collection.js');
  const { readIndexManifest } = await import('../../store/index.js');
  const haveIndex = o.id || (o.db !== undefined && (await readIndexManifest(isRemoteDb(o.db) ? o.db : path.resolve(o.db))) !== null);
  const c = haveIndex ? await Collection.open({ db: o.db }) : null;
  const out: TextResult[] = [];
  try {
    const ids = o.id && c ? await (await import('../ids.js')).resolveItemIds(c, targets) : targets;
    for (const target of ids) {
      // One unreadable image is reported, not fatal: the others are still read.
      try {
        const image = o.id ? { id: target } : target;
        const facts = c
          ? await c.imageFacts(image, { compute: ['text'] })
          : await (await import('../../facts/on-demand.js')).factsOfImage(await readQueryImage(target), ['text']);
        out.push({ image: target, width: facts!.width, height: facts!.height, text: readingOrder(facts!.text ?? []) });
      } catch (e) {
        out.push({ image: target, error: errorMessage(e) });
      }
    }
  } finally {
    await c?.close();
  }
  if (o.json) printJson(out);
  else {
    for (const r of out) {
      const name = o.id ? r.image : displayPath(r.image);
      if (r.error) {
        process.stderr.write(`visor: ${name}: ${r.error}\n`);
        continue;
      }
      // With several images each gets a heading; one image's text is printed bare (easy to pipe).
      if (out.length > 1) process.stdout.write(`${name}:${r.text!.length ? '' : ' (no text found)'}\n`);
      else if (r.text!.length === 0) process.stderr.write(`visor: ${name}: no text found\n`);
      for (const t of r.text!) process.stdout.write(`${out.length > 1 ? '  ' : ''}${t.text}\t${t.score.toFixed(2)}\n`);
    }
  }
  const failed = out.filter((r) => r.error).length;
  return failed === 0 ? 0 : failed === out.length ? 2 : 1;
}
