import { Collection } from '../../collection.js';
import { parseRerankMethod } from '../../search/stages/neighbours.js';
import { displayPath, printJson } from '../output.js';
import { checkSourcesExist, printSummary, type IndexCommandOptions } from './index-common.js';

export type { IndexCommandOptions } from './index-common.js';
import { createProgress, type ProgressMode } from '../progress.js';
import { EXIT } from '../run.js';

/** A built-in model's files, downloaded (verified) with a progress bar before indexing starts. */
async function fetchModel(ref: string, mode: ProgressMode): Promise<void> {
  const [{ findAnyModel }, { resolveModel }] = await Promise.all([import('../../models/local-models.js'), import('../../models/resolve.js')]);
  const spec = findAnyModel(ref);
  if (!spec || spec.folder) return; // a folder: nothing to fetch
  const bar = createProgress(mode, 'bytes');
  try {
    await resolveModel(spec, {
      onDownloadStart: (f, url) => process.stderr.write(`downloading ${f.name} from ${url}\n`),
      onDownloadProgress: (f, p) => bar.update({ phase: f.name, done: p.received, total: p.total ?? f.size }),
    });
  } finally {
    bar.stop();
  }
}

export async function indexCommand(sources: string[], o: IndexCommandOptions): Promise<number> {
  await checkSourcesExist(sources);
  // Before the index is created: a model that cannot be had leaves no empty index behind.
  for (const m of [o.model, o.space]) if (m !== undefined) await fetchModel(m, o.progress);
  const collection = await Collection.open({ db: o.db, create: true, imageModel: o.model, shards: o.shards });
  const abort = new AbortController();
  const onSigint = () => {
    if (abort.signal.aborted) process.exit(EXIT.interrupted); // second Ctrl-C: stop now, stored batches are safe
    abort.abort();
    process.stderr.write('\nStopping after the current batch… (Ctrl-C again to quit at once)\n');
  };
  process.on('SIGINT', onSigint);
  process.on('SIGTERM', onSigint);
  const progress = createProgress(o.progress);
  try {
    // Checked before any image is read: a wrong model file should not cost an indexing run.
    const textModel = o.textModel ? await collection.setTextModel(o.textModel) : undefined;
    const summary = await collection.index(sources, {
      hidden: o.hidden,
      allFiles: o.allFiles,
      batchSize: o.batchSize,
      workers: o.workers,
      maxPixels: o.maxPixels,
      maxFileBytes: o.maxFileMb !== undefined ? o.maxFileMb * 2 ** 20 : undefined,
      signal: abort.signal,
      space: o.space,
      facts: o.facts === false ? [] : o.facts?.split(','),
      imageRerank: o.imageRerank === undefined ? undefined : parseRerankMethod(o.imageRerank),
      onStageProgress: (p) => progress.update({ phase: p.stage, done: p.done, total: p.total }),
      onProgress: (p) =>
        p.phase === 'embedding' && progress.update({ phase: 'indexing', done: p.done, total: p.total, detail: { duplicates: p.duplicates, skipped: p.skipped } }),
      onSpaceProgress: (p) => progress.update({ phase: p.space, done: p.done, total: p.total }),
    });
    progress.stop();
    const domain = summary.stages;
    if (o.json) printJson({ db: collection.db, ...summary, ...(textModel ? { textModel } : {}) });
    else printSummary(summary, collection.db);
    if (domain && !o.json) process.stdout.write(`Stages: ${domain.join('; ')}\n`);
    if (textModel && !o.json) process.stdout.write(`Text search: ${textModel.name} (${displayPath(textModel.file)}, sha256 ${textModel.sha256.slice(0, 12)}…)\n`);
    return summary.interrupted ? EXIT.interrupted : EXIT.ok;
  } finally {
    progress.stop();
    process.off('SIGINT', onSigint);
    process.off('SIGTERM', onSigint);
    await collection.close();
  }
}
