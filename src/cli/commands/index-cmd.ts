import { Collection } from '../../collection.js';
import type { IndexSummary } from '../../ingest/indexer.js';
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
  progress: ProgressMode;
}

const SHOW_SKIPPED = 20;

function printSummary(s: IndexSummary, db: string): void {
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
  if (s.interrupted) lines.push('Run the same command again to finish: what was stored is kept.');
  lines.push(`Index: ${db} (${s.totalItems} images)`);
  process.stdout.write(`${lines.join('\n')}\n`);
}

export async function indexCommand(sources: string[], o: IndexCommandOptions): Promise<number> {
  const collection = await Collection.open({ db: o.db, create: true });
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
      onProgress: (p) =>
        p.phase === 'embedding' &&
        progress.update({ phase: 'indexing', done: p.done, total: p.total, detail: { duplicates: p.duplicates, skipped: p.skipped } }),
    });
    progress.stop();
    if (o.json) printJson({ db: collection.db, ...summary, ...(textModel ? { textModel } : {}) });
    else {
      printSummary(summary, collection.db);
      if (textModel) process.stdout.write(`Text search: ${textModel.name} (${displayPath(textModel.file)}, sha256 ${textModel.sha256.slice(0, 12)}…)\n`);
    }
    return summary.interrupted ? EXIT.interrupted : EXIT.ok;
  } finally {
    progress.stop();
    process.off('SIGINT', onSigint);
    process.off('SIGTERM', onSigint);
    await collection.close();
  }
}
