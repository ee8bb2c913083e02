import path from 'node:path';
import { Collection } from '../../collection.js';
import { VisorError } from '../../errors.js';
import { LOCALIZE_METHODS, type LocalizeMethod } from '../../localize/methods.js';
import { displayPath, printJson, table } from '../output.js';
import { createProgress, type ProgressMode } from '../progress.js';
import type { GlobalOptions } from '../run.js';

export interface CategorizeOptions extends GlobalOptions {
  model?: string;
  /** Comma-separated category names for the zero-shot predictor (instead of --model). */
  zeroShot?: string;
  column?: string;
  force?: boolean;
  progress: ProgressMode;
}

/** `visor categorize`: a category for every image (catalogue value, else predicted); turns narrowing on. */
export async function categorizeCommand(o: CategorizeOptions): Promise<void> {
  if (!o.model === !o.zeroShot) throw new VisorError('QUERY_INVALID', 'give either --model <classifier file> or --zero-shot <names>');
  const predictor = o.model
    ? { kind: 'trained' as const, file: path.resolve(o.model) }
    : {
        kind: 'zero-shot' as const,
        categories: o
          .zeroShot!.split(',')
          .map((c) => c.trim())
          .filter(Boolean),
      };
  const collection = await Collection.open({ db: o.db });
  if (o.column !== undefined) {
    // A misspelt column would silently leave every image to the predictor.
    const known = Object.keys(await collection.store.metaColumns());
    if (!known.includes(o.column)) {
      await collection.close();
      throw new VisorError(
        'QUERY_INVALID',
        `no catalogue column ${JSON.stringify(o.column)} in the index${known.length ? ` (columns: ${known.join(', ')})` : ''}`,
      );
    }
  }
  const pipeline = await collection.stagesData().catch(async (e: unknown) => {
    await collection.close();
    throw e;
  });
  try {
    const progress = createProgress(o.progress);
    const s = await pipeline.categorizeItems({
      predictor,
      catalogueColumn: o.column ?? null,
      force: o.force,
      onProgress: (p) => progress.update({ phase: p.stage, done: p.done, total: p.total }),
    });
    progress.stop();
    if (o.json) return printJson(s);
    process.stdout.write(
      `${table([
        ['categorised', `${s.categorized} (${s.fromCatalogue} from the catalogue, ${s.categorized - s.fromCatalogue} predicted), ${s.unchanged} unchanged`],
        [
          'categories',
          Object.entries(s.counts)
            .map(([c, n]) => `${c} ${n}`)
            .join(', '),
        ],
        ['time', `${s.seconds.toFixed(1)} s`],
      ])}\n`,
    );
  } finally {
    await collection.close();
  }
}

export interface LocalizeOptions extends GlobalOptions {
  method?: string;
  batchSize?: number;
  progress: ProgressMode;
}

/** `visor localize`: object silhouettes and object features for every image; turns localisation on. */
export async function localizeCommand(o: LocalizeOptions): Promise<void> {
  if (o.method && !(LOCALIZE_METHODS as readonly string[]).includes(o.method)) {
    throw new VisorError('QUERY_INVALID', `unknown localisation method ${JSON.stringify(o.method)}; known: ${LOCALIZE_METHODS.join(', ')}`);
  }
  const collection = await Collection.open({ db: o.db });
  const pipeline = await collection.stagesData().catch(async (e: unknown) => {
    await collection.close();
    throw e;
  });
  const abort = new AbortController();
  const onSigint = () => abort.abort();
  process.once('SIGINT', onSigint);
  try {
    const progress = createProgress(o.progress);
    const s = await pipeline.localizeItems({
      method: o.method as LocalizeMethod | undefined,
      batchSize: o.batchSize,
      signal: abort.signal,
      onProgress: (p) => progress.update({ phase: p.stage, done: p.done, total: p.total }),
    });
    progress.stop();
    if (o.json) return printJson(s);
    process.stdout.write(
      `${table([
        ['localised', `${s.localized} (object found in ${s.found}), ${s.unchanged} unchanged, ${s.failed.length} failed`],
        ['time', `${s.seconds.toFixed(1)} s`],
      ])}\n` + s.failed.map((f) => `  failed: ${displayPath(f.path)}: ${f.reason}\n`).join(''),
    );
  } finally {
    process.off('SIGINT', onSigint);
    await collection.close();
  }
}
