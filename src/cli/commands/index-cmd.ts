import fs from 'node:fs/promises';
import { Collection, type CollectionIndexSummary } from '../../collection.js';
import { VisorError } from '../../errors.js';
import { displayPath, printJson } from '../output.js';
import { createProgress, type ProgressMode } from '../progress.js';
import { EXIT, type GlobalOptions } from '../run.js';

export interface IndexCommandOptions extends GlobalOptions {
  hidden?: boolean;
  allFiles?: boolean;
  batchSize?: number;
  workers?: number;
  maxPixels?: number;
  maxFileMb?: number;
  textModel?: string;
  /** The main image model of a new collection. */
  model?: string;
  /** A further embedding space to fill beside the main features. */
  space?: string;
  /** Shards of a new collection in object storage. */
  shards?: number;
  progress: ProgressMode;
}

const SHOW_SKIPPED = 20;

function printSummary(s: CollectionIndexSummary, db: string): void {
  const rate = s.indexed > 0 ? ` (${(s.indexed / s.seconds).toFixed(0)} images/s)` : '';
  const lines = [
    `${s.interrupted ? 'Interrupted: ' : ''}indexed ${s.indexed} new image${s.indexed === 1 ? '' : 's'} in ${s.seconds.toFixed(1)} s${rate}`,
    `  unchanged ${s.unchanged}, duplicates ${s.duplicates}, removed ${s.removed}, skipped ${s.skipped.length}` +
      (s.metadataUpdated ? `, metadata updated ${s.metadataUpdated}` : '') +
      (s.ignored ? `, other files ignored ${s.ignored}` : ''),
  ];
  if (s.skipped.length > 0) {
    lines.push('Skipped:');
    for (const p of s.skipped.slice(0, SHOW_SKIPPED)) lines.push(`  ${displayPath(p.path)}: ${p.reason}`);
    if (s.skipped.length > SHOW_SKIPPED) lines.push(`  … and ${s.skipped.length - SHOW_SKIPPED} more (--json lists all)`);
  }
  for (const sp of s.spaces) {
    lines.push(`Space ${sp.space}: embedded ${sp.embedded} new image${sp.embedded === 1 ? '' : 's'} (${sp.already} already there), skipped ${sp.skipped.length}`);
    for (const p of sp.skipped.slice(0, SHOW_SKIPPED)) lines.push(`  ${displayPath(p.path)}: ${p.reason}`);
  }
  if (s.scanned === 0 && s.skipped.length === 0) {
    // Nothing that looked like an image: say why rather than leave an empty index unexplained.
    lines.push(
      `No image files found${s.ignored ? ` (${s.ignored} other file${s.ignored === 1 ? '' : 's'}: --all-files tries them)` : ''}; hidden files and folders need --hidden.`,
    );
  }
  if (s.interrupted) lines.push('Run the same command again to finish: what was stored is kept.');
  lines.push(`Index: ${db} (${s.totalItems} images)`);
  process.stdout.write(`${lines.join('\n')}\n`);
}

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

/** A source that is not there is a typo, not a skipped file: say so before an index is created. */
async function checkSourcesExist(sources: string[]): Promise<void> {
  const missing = [];
  for (const s of sources) if (!(await fs.stat(s).catch(() => null))) missing.push(s);
  if (missing.length === 0) return;
  throw new VisorError(
    'NOT_FOUND',
    `no such file or folder: ${missing.join(', ')} (nothing indexed; to forget images indexed from a folder that is gone, use 'visor remove')`,
  );
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
