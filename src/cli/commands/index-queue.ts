import { Collection } from '../../collection.js';
import { resolvePaths } from '../../config.js';
import { VisorError } from '../../errors.js';
import type { DistributedIndexSummary } from '../../ingest/distributed/coordinator.js';
import { connectQueue } from '../../queue/connect.js';
import { displayPath, printJson } from '../output.js';
import { createProgress } from '../progress.js';
import { EXIT } from '../run.js';
import { checkSourcesExist, printSummary, type IndexCommandOptions } from './index-common.js';

/** `visor index … --queue`: this process plans and follows the job; `visor worker` processes embed. */
export async function indexThroughQueue(sources: string[], o: IndexCommandOptions): Promise<number> {
  await checkSourcesExist(sources);
  const url = o.queue === true ? resolvePaths().queue : o.queue;
  if (!url) throw new VisorError('QUEUE_UNAVAILABLE', '--queue needs a URL (nats://host:4222), or set VISOR_QUEUE or "queue" in visor.config.json');
  if (o.space !== undefined)
    throw new VisorError('QUERY_INVALID', '--space cannot be filled through a queue yet: index with --queue first, then run --space without it');
  if (o.facts !== undefined)
    throw new VisorError(
      'QUERY_INVALID',
      '--facts are not computed through a queue yet: index with --queue first, then run the same sources with --facts without it',
    );
  if (o.workers !== undefined || o.batchSize !== undefined) {
    throw new VisorError('QUERY_INVALID', "with --queue the embedding runs in 'visor worker' processes: give them --threads and --batch-size");
  }
  // Before the collection is opened: an unreachable queue leaves nothing written.
  const nc = await connectQueue(url, 'visor index');
  try {
    const collection = await Collection.open({ db: o.db, create: true, imageModel: o.model, shards: o.shards, queue: url });
    const abort = new AbortController();
    const onSigint = () => {
      if (abort.signal.aborted) process.exit(EXIT.interrupted);
      abort.abort();
      process.stderr.write('\nStopped following the job: the queued batches are still done by the workers; run the same command again to finish.\n');
    };
    process.on('SIGINT', onSigint);
    process.on('SIGTERM', onSigint);
    const progress = createProgress(o.progress);
    try {
      const textModel = o.textModel ? await collection.setTextModel(o.textModel) : undefined;
      const summary: DistributedIndexSummary = await collection.indexWithQueue(sources, nc, {
        hidden: o.hidden,
        allFiles: o.allFiles,
        maxPixels: o.maxPixels,
        maxFileBytes: o.maxFileMb !== undefined ? o.maxFileMb * 2 ** 20 : undefined,
        batchFiles: o.batchFiles,
        signal: abort.signal,
        onProgress: (p) =>
          (p.phase === 'embedding' || p.phase === 'queued') &&
          progress.update({
            phase: 'indexing',
            done: p.done,
            total: p.total,
            detail: { embedded: p.embedded, duplicates: p.duplicates, skipped: p.skipped, workers: p.workers.length },
          }),
      });
      progress.stop();
      if (o.json) printJson({ db: collection.db, ...summary, spaces: [], ...(textModel ? { textModel } : {}) });
      else {
        printSummary({ ...summary, spaces: [] }, collection.db);
        const rates = summary.workers.map((w) => `${w.worker} ${w.embedded} (${w.imagesPerSecond}/s)`);
        process.stdout.write(
          `Job ${summary.job}: ${summary.batches} batches${summary.failedBatches ? `, ${summary.failedBatches} failed` : ''}${rates.length ? `; workers: ${rates.join(', ')}` : ''}\n`,
        );
        if (textModel) process.stdout.write(`Text search: ${textModel.name} (${displayPath(textModel.file)})\n`);
      }
      return summary.interrupted ? EXIT.interrupted : EXIT.ok;
    } finally {
      progress.stop();
      process.off('SIGINT', onSigint);
      process.off('SIGTERM', onSigint);
      await collection.close();
    }
  } finally {
    await nc.close();
  }
}
