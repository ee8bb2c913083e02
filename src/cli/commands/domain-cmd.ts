import path from 'node:path';
import { Collection } from '../../collection.js';
import { VisorError } from '../../errors.js';
import { LOCALIZE_METHODS, type LocalizeMethod } from '../../localize/methods.js';
import { SHORT_ID } from '../ids.js';
import { displayPath, printJson, table } from '../output.js';
import { createProgress, type ProgressMode } from '../progress.js';
import type { GlobalOptions } from '../run.js';

/**
 * After indexing: runs the domain stages the collection has prepared on images that lack them.
 * Returns a line per stage run, or undefined when none is prepared (nothing is loaded then).
 */
export async function refreshDomainStages(collection: Collection, mode: ProgressMode): Promise<string[] | undefined> {
  const { domainSettings } = await import('../../domain/settings.js');
  const settings = domainSettings(collection.store);
  if (!settings.localize && !settings.categorize) return undefined;
  const { DomainPipeline } = await import('../../domain/pipeline.js');
  const pipeline = await DomainPipeline.open(collection.store);
  const progress = createProgress(mode);
  const lines: string[] = [];
  try {
    const onProgress = (p: { stage: string; done: number; total: number }) => progress.update({ phase: p.stage, done: p.done, total: p.total });
    if (settings.localize) {
      const s = await pipeline.localizeItems({ method: settings.localize.method, onProgress });
      lines.push(`localised ${s.localized} new (${s.found} with an object found)${s.failed.length ? `, ${s.failed.length} failed` : ''}`);
    }
    if (settings.categorize) {
      const s = await pipeline.categorizeItems({ predictor: settings.categorize.predictor, catalogueColumn: settings.categorize.catalogueColumn, onProgress });
      lines.push(`categorised ${s.categorized} new`);
    }
    return lines;
  } finally {
    progress.stop();
    await pipeline.close();
  }
}

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
    : { kind: 'zero-shot' as const, categories: o.zeroShot!.split(',').map((c) => c.trim()).filter(Boolean) };
  const collection = await Collection.open({ db: o.db });
  if (o.column !== undefined) {
    // A misspelt column would silently leave every image to the predictor.
    const known = Object.keys(await collection.store.metaColumns());
    if (!known.includes(o.column)) {
      await collection.close();
      throw new VisorError('QUERY_INVALID', `no catalogue column ${JSON.stringify(o.column)} in the index${known.length ? ` (columns: ${known.join(', ')})` : ''}`);
    }
  }
  const { DomainPipeline } = await import('../../domain/pipeline.js');
  const pipeline = await DomainPipeline.open(collection.store);
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
        ['categories', Object.entries(s.counts).map(([c, n]) => `${c} ${n}`).join(', ')],
        ['time', `${s.seconds.toFixed(1)} s`],
      ])}\n`,
    );
  } finally {
    await pipeline.close();
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
  const { DomainPipeline } = await import('../../domain/pipeline.js');
  const pipeline = await DomainPipeline.open(collection.store);
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
    await pipeline.close();
    await collection.close();
  }
}

/** `visor search --image q.jpg [--narrow] [--localize] [--rerank]`: one image through the domain stages. */
export async function domainSearchCommand(words: string[], o: import('./search-cmd.js').SearchCommandOptions): Promise<void> {
  if (o.image.length !== 1 || words.length > 0 || o.like.length > 0 || o.notImage.length > 0 || o.unlike.length > 0) {
    throw new VisorError('QUERY_INVALID', '--narrow, --localize and --rerank take exactly one --image and no words or other examples');
  }
  if (o.space !== undefined) throw new VisorError('QUERY_INVALID', '--space cannot be combined with --narrow, --localize or --rerank (they use the image features)');
  const { readQueryImage } = await import('../../collection.js');
  const bytes = await readQueryImage(o.image[0]!);
  const collection = await Collection.open({ db: o.db });
  const { DomainPipeline } = await import('../../domain/pipeline.js');
  const pipeline = await DomainPipeline.open(collection.store);
  try {
    const r = await pipeline.search(bytes, {
      k: o.k,
      offset: o.offset,
      where: o.where,
      excludeSelf: o.excludeSelf,
      narrow: o.narrow ?? false,
      localize: o.localize ?? false,
      rerank: o.rerank ?? false,
    });
    if (o.json) return printJson(r);
    const q = r.query;
    if (q.categories) {
      process.stdout.write(
        `categories: ${q.categories.map((c) => `${c.category} ${c.probability.toFixed(2)}`).join(', ')}; ` +
          `${q.searchedFirst?.length ? `searched first: ${q.searchedFirst.join(', ')}` : 'not confident: searched everything'}\n`,
      );
    }
    if (q.object) process.stdout.write(`object: ${q.object.found ? `found, ${(q.object.area * 100).toFixed(0)}% of the image` : 'none stands out: whole image used'}\n`);
    const rows = [['#', 'score', 'path', 'id', 'iou', 'category']];
    for (const x of r.results) rows.push([String(x.rank), x.score.toFixed(3), displayPath(x.path), x.id.slice(0, SHORT_ID), x.iou === undefined ? '' : x.iou.toFixed(2), x.category ?? '']);
    process.stdout.write(`${r.results.length ? table(rows) : 'No results.'}\n`);
  } finally {
    await pipeline.close();
    await collection.close();
  }
}
