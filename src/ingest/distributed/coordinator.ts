import { randomBytes } from 'node:crypto';
import type { NatsConnection } from 'nats';
import { DEFAULT_MAX_PIXELS } from '../../image/limits.js';
import type { BatchMessage, BatchResult } from '../../queue/ingest-messages.js';
import { ensureIngestQueue, ingestNames, MAX_DELIVER } from '../../queue/ingest-streams.js';
import { publishBatches } from '../../queue/publish-batches.js';
import { dropBatch, watchGivenUp, watchResults } from '../../queue/job-results.js';
import { withLease, type LeaseService } from '../../store/lease.js';
import type { VectorStore } from '../../store/port.js';
import type { CrawlProblem } from '../crawl.js';
import { emptyIndexSummary, type IndexOptions, type IndexSummary } from '../indexer.js';
import { PathLedger } from '../path-ledger.js';
import { applyMetaChanges, detachVanished, gather, plan, settleFile } from '../plan.js';
import { DEFAULT_MAX_FILE_BYTES } from '../read-image.js';

/** Files per batch on the queue: big enough to keep a worker's model busy, small enough to spread a job over many workers. */
export const DEFAULT_BATCH_FILES = 48;

/** The lease under which a job's rewrites of stored items (paths, catalogue fields, upkeep) run. */
export const INGEST_LEASE = 'ingest-rewrite';

export interface DistributedIndexOptions extends Omit<IndexOptions, 'readAhead' | 'commitSize' | 'onProgress'> {
  /** Files per batch (default 48). */
  batchFiles?: number;
  onProgress?: (p: DistributedProgress) => void;
}

export interface WorkerRate {
  worker: string;
  batches: number;
  files: number;
  embedded: number;
  /** Images embedded per second of the worker's own batch time. */
  imagesPerSecond: number;
}

export interface DistributedProgress {
  phase: 'scanning' | 'queued' | 'embedding' | 'finishing';
  /** Files reported by the workers so far out of `total` queued. */
  done: number;
  total: number;
  embedded: number;
  duplicates: number;
  skipped: number;
  workers: WorkerRate[];
}

export interface DistributedIndexSummary extends IndexSummary {
  job: string;
  batches: number;
  /** Batches no worker could finish (their files are among the skipped). */
  failedBatches: number;
  workers: WorkerRate[];
}

/**
 * Indexes through a queue: gathers and compares like a local run, updates catalogue fields,
 * queues the files that need reading as batches for `visor worker` processes, follows their
 * results (the first result of each batch counts), then applies removals and path changes and
 * the upkeep under the collection's lease. Interrupted, it stops waiting: the queued batches
 * are still done by the workers, and running it again picks up what they stored as unchanged.
 */
export async function indexWithQueue(
  store: VectorStore,
  db: string,
  nc: NatsConnection,
  leases: LeaseService,
  sources: readonly string[],
  opts: DistributedIndexOptions = {},
): Promise<DistributedIndexSummary> {
  const started = performance.now();
  const aborted = () => opts.signal?.aborted === true;
  const names = ingestNames(db);
  const job = `j${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;
  const summary: DistributedIndexSummary = {
    ...emptyIndexSummary(),
    job,
    batches: 0,
    failedBatches: 0,
    workers: [],
  };
  const rates = new Map<string, WorkerRate & { seconds: number }>();
  const workers = (): WorkerRate[] =>
    [...rates.values()].map(({ seconds, ...w }) => ({ ...w, imagesPerSecond: seconds > 0 ? Number((w.embedded / seconds).toFixed(1)) : 0 }));
  let done = 0;
  let total = 0;
  const report = (phase: DistributedProgress['phase']) =>
    opts.onProgress?.({ phase, done, total, embedded: summary.indexed, duplicates: summary.duplicates, skipped: summary.skipped.length, workers: workers() });
  const skip = (problem: CrawlProblem) => {
    summary.skipped.push(problem);
    opts.onSkip?.(problem);
  };

  await ensureIngestQueue(await nc.jetstreamManager(), names);
  report('scanning');
  const g = await gather(sources, opts);
  g.skipped.forEach(skip);
  summary.scanned = g.candidates.size;
  summary.ignored = g.ignored;
  await store.ensureMetaColumns(g.columns);
  const p = await plan(store, g);
  summary.unchanged = p.unchanged;
  if (p.metaChecks.length > 0) {
    const meta = await withLease(leases, INGEST_LEASE, () => applyMetaChanges(store, p.metaChecks));
    summary.metadataUpdated = meta.updated;
    summary.unchanged += meta.unchanged;
  }

  const size = Math.max(1, opts.batchFiles ?? DEFAULT_BATCH_FILES);
  const batches: BatchMessage[] = [];
  for (let i = 0; i < p.todo.length; i += size) {
    batches.push({
      job,
      batch: `${job}.${batches.length}`,
      db,
      maxPixels: opts.maxPixels ?? DEFAULT_MAX_PIXELS,
      maxFileBytes: opts.maxFileBytes ?? DEFAULT_MAX_FILE_BYTES,
      files: p.todo.slice(i, i + size).map((c) => ({ path: c.path, size: c.size, mtimeMs: c.mtimeMs, ...(c.meta ? { meta: c.meta } : {}) })),
    });
  }
  summary.batches = batches.length;
  total = p.todo.length;
  const ledger = new PathLedger();
  const pending = new Map(batches.map((b) => [b.batch, b]));

  const take = (r: BatchResult) => {
    if (!pending.delete(r.batch)) return; // a batch done twice: its first result counted
    if (r.error) summary.failedBatches++;
    const w = rates.get(r.worker) ?? { worker: r.worker, batches: 0, files: 0, embedded: 0, imagesPerSecond: 0, seconds: 0 };
    rates.set(r.worker, w);
    w.batches++;
    w.files += r.files.length;
    w.seconds += r.seconds;
    for (const f of r.files) {
      done++;
      const rec = { path: f.path, size: f.size, mtimeMs: f.mtimeMs };
      const counted = settleFile(p, ledger, rec, f.outcome === 'failed' ? { kind: 'failed' } : { kind: f.outcome, id: f.id });
      if (f.outcome === 'failed') skip({ path: f.path, reason: f.reason });
      else if (counted === 'embedded') {
        summary.indexed++;
        w.embedded++;
      } else if (counted === 'unchanged') summary.unchanged++;
      else summary.duplicates++;
    }
    report('embedding');
  };

  if (batches.length > 0 && !aborted()) {
    // Watching before publishing: no result can come before we listen (and the stream keeps them anyway).
    const watch = await watchResults(nc, names, job);
    const seqs = new Map<number, string>();
    const givenUp: number[] = [];
    const advisories = watchGivenUp(nc, names, (seq) => givenUp.push(seq));
    const onAbort = () => void watch.stop();
    opts.signal?.addEventListener('abort', onAbort);
    // Batches given up after their last delivery have no result: their files are reported failed.
    const sweep = setInterval(() => {
      for (const seq of givenUp.splice(0)) {
        const id = seqs.get(seq);
        const b = id ? pending.get(id) : undefined;
        if (!b) continue;
        void dropBatch(nc, seq);
        const reason = `a worker stopped on this batch each of ${MAX_DELIVER} times it was tried`;
        take({ job, batch: b.batch, worker: 'none', seconds: 0, error: reason, files: b.files.map((f) => ({ ...f, outcome: 'failed', reason })) });
      }
      if (pending.size === 0) void watch.stop();
    }, 1_000);
    try {
      for (const [seq, id] of await publishBatches(nc, names, batches)) seqs.set(seq, id);
      report('queued');
      for await (const r of watch.results) {
        take(r);
        if (pending.size === 0 || aborted()) break;
      }
    } finally {
      clearInterval(sweep);
      advisories.stop();
      opts.signal?.removeEventListener('abort', onAbort);
      await watch.stop();
    }
  }
  // Stopped before every batch reported: nothing unseen may be taken for deleted.
  summary.interrupted = aborted() || pending.size > 0;
  report('finishing');
  if (!summary.interrupted) summary.removed = await detachVanished(g, p, ledger);
  const changedSomething = summary.indexed > 0 || ledger.pending > 0 || summary.metadataUpdated > 0;
  if (ledger.pending > 0 || (changedSomething && !summary.interrupted)) {
    await withLease(leases, INGEST_LEASE, async () => {
      await store.refresh();
      await ledger.apply(store);
      if (changedSomething && !summary.interrupted) await store.optimize();
    });
  }
  await store.refresh();
  summary.totalItems = await store.count();
  summary.workers = workers();
  summary.seconds = (performance.now() - started) / 1000;
  return summary;
}
