import os from 'node:os';
import { randomBytes } from 'node:crypto';
import type { NatsConnection } from 'nats';
import { errorMessage } from '../../errors.js';
import { consumeBatches } from '../../queue/batch-consumer.js';
import type { BatchResult } from '../../queue/ingest-messages.js';
import { ensureIngestQueue, ingestNames } from '../../queue/ingest-streams.js';
import { publishResult } from '../../queue/job-results.js';
import { Claims } from './claims.js';
import { RETRY_IN_MS, runBatch, type BatchDeps } from './run-batch.js';

export interface IngestWorkerOptions {
  /** Stop after the current batch. */
  signal?: AbortSignal;
  /** Return once the queue has been empty this long (ms). */
  idleExitMs?: number;
  /** Each batch done (also those that failed as a whole). */
  onBatch?: (r: BatchResult & { delivery: number }) => void;
}

export interface IngestWorkerSummary {
  worker: string;
  batches: number;
  files: number;
  embedded: number;
  seconds: number;
}

/**
 * A worker of distributed indexing: takes the collection's batches from the queue one at a
 * time and does them (runBatch), then publishes each result and acks its batch, in that order,
 * so a worker dying in between makes the batch run again rather than its result go missing.
 * A batch that throws is asked for again later; on its last delivery it is reported failed.
 * `open` gives the store and embedding workers on the first batch (the coordinator creates the collection).
 */
export async function runIngestWorker(
  nc: NatsConnection,
  db: string,
  open: () => Promise<Omit<BatchDeps, 'claims' | 'worker'>>,
  opts: IngestWorkerOptions = {},
): Promise<IngestWorkerSummary> {
  const started = performance.now();
  const names = ingestNames(db);
  await ensureIngestQueue(await nc.jetstreamManager(), names);
  const worker = `${os.hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
  const summary: IngestWorkerSummary = { worker, batches: 0, files: 0, embedded: 0, seconds: 0 };
  const claims = Claims.forDb(db);
  let deps: BatchDeps | null = null;
  try {
    await consumeBatches(
      nc,
      names,
      async (d) => {
        let outcome: Awaited<ReturnType<typeof runBatch>>;
        try {
          deps ??= { ...(await open()), claims, worker };
          outcome = await runBatch(deps, d);
        } catch (e) {
          if (!d.last) return { done: false, retryInMs: RETRY_IN_MS };
          const reason = `the batch failed on every try: ${errorMessage(e)}`;
          outcome = {
            verdict: { done: true },
            result: {
              job: d.batch.job,
              batch: d.batch.batch,
              worker,
              seconds: 0,
              error: reason,
              files: d.batch.files.map((f) => ({ ...f, outcome: 'failed', reason })),
            },
          };
        }
        if (outcome.result) {
          await publishResult(nc, names, outcome.result);
          summary.batches++;
          summary.files += outcome.result.files.length;
          summary.embedded += outcome.result.files.filter((f) => f.outcome === 'embedded').length;
          opts.onBatch?.({ ...outcome.result, delivery: d.delivery });
        }
        return outcome.verdict;
      },
      { signal: opts.signal, idleExitMs: opts.idleExitMs },
    );
  } finally {
    claims.close();
  }
  summary.seconds = (performance.now() - started) / 1000;
  return summary;
}
