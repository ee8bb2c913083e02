import { Collection } from '../../collection.js';
import { resolvePaths } from '../../config.js';
import { VisorError } from '../../errors.js';
import { connectQueue } from '../../queue/connect.js';
import { printJson } from '../output.js';
import { EXIT, type GlobalOptions } from '../run.js';

export interface WorkerCommandOptions extends GlobalOptions {
  queue?: string;
  threads?: number;
  batchSize?: number;
  /** Seconds of an empty queue after which to exit. */
  idleExit?: number;
}

/** `visor worker`: embeds the batches `visor index --queue` queues for the collection, until stopped. */
export async function workerCommand(o: WorkerCommandOptions): Promise<number> {
  const url = o.queue ?? resolvePaths().queue;
  if (!url) throw new VisorError('QUEUE_UNAVAILABLE', 'no queue given: pass --queue nats://host:4222 (or set VISOR_QUEUE)');
  const nc = await connectQueue(url, 'visor worker');
  const stop = new AbortController();
  const onSignal = () => {
    if (stop.signal.aborted) process.exit(EXIT.interrupted);
    stop.abort();
    if (!o.json) process.stderr.write('\nFinishing the current batch, then stopping… (again to quit at once: the batch goes to another worker)\n');
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    const summary = await Collection.work(nc, {
      db: o.db,
      queue: url,
      threads: o.threads,
      batchSize: o.batchSize,
      signal: stop.signal,
      idleExitMs: o.idleExit !== undefined ? o.idleExit * 1000 : undefined,
      onBatch: (r) => {
        const embedded = r.files.filter((f) => f.outcome === 'embedded').length;
        const failed = r.files.filter((f) => f.outcome === 'failed').length;
        if (o.json) {
          const line = {
            batch: r.batch,
            job: r.job,
            delivery: r.delivery,
            files: r.files.length,
            embedded,
            failed,
            seconds: Number(r.seconds.toFixed(2)),
            ...(r.phases ? { phases: Object.fromEntries(Object.entries(r.phases).map(([k, v]) => [k, Number(v.toFixed(2))])) } : {}),
          };
          process.stdout.write(`${JSON.stringify(line)}\n`);
        } else {
          process.stderr.write(
            `batch ${r.batch}: ${r.files.length} files, ${embedded} embedded, ${failed} failed in ${r.seconds.toFixed(1)} s${r.error ? ` (${r.error})` : ''}\n`,
          );
        }
      },
    });
    if (o.json) printJson({ summary });
    else process.stderr.write(`worker ${summary.worker}: ${summary.batches} batches, ${summary.embedded} images embedded in ${summary.seconds.toFixed(1)} s\n`);
    return EXIT.ok;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await nc.close();
  }
}
