import { createHash } from 'node:crypto';
import { parseLocation } from '../store/location.js';
import { AckPolicy, DeliverPolicy, RetentionPolicy, StorageType, nanos, type JetStreamManager } from 'nats';

/**
 * Two streams carry distributed indexing: batches (a work queue: a message leaves once a
 * worker acks it) and results (kept a week, read by the coordinator of the job).
 */
export const BATCH_STREAM = 'VISOR_INGEST';
export const RESULT_STREAM = 'VISOR_INGEST_RESULTS';

/** A batch is redelivered when its worker neither acks nor reports progress for this long. */
export const ACK_WAIT_MS = 30_000;
/** Deliveries of one batch before it is given up as failed (a file that crashes every worker). */
export const MAX_DELIVER = 5;

/** Subjects and consumer name of one collection: workers of a collection only take its batches. */
export interface IngestNames {
  key: string;
  batchSubject: string;
  /** The durable pull consumer all workers of the collection share. */
  consumer: string;
  resultSubject(job: string): string;
}

/** Names for the collection at `db` (keyed by its URI, or its folder made absolute, however `--db` spelt it). */
export function ingestNames(db: string): IngestNames {
  const loc = parseLocation(db);
  const where = loc.kind === 's3' ? loc.uri : loc.dir;
  const key = createHash('sha256').update(where).digest('hex').slice(0, 16);
  return {
    key,
    batchSubject: `visor.ingest.batch.${key}`,
    consumer: `ingest_${key}`,
    resultSubject: (job) => `visor.ingest.result.${key}.${job}`,
  };
}

async function ensureStream(jsm: JetStreamManager, config: Parameters<JetStreamManager['streams']['add']>[0] & { name: string }): Promise<void> {
  try {
    await jsm.streams.info(config.name);
  } catch {
    try {
      await jsm.streams.add(config);
    } catch (e) {
      // Another node created it meanwhile: that is what we wanted.
      await jsm.streams.info(config.name).catch(() => Promise.reject(e));
    }
  }
}

/** Creates the streams and the collection's consumer when missing (idempotent; safe from many nodes at once). */
export async function ensureIngestQueue(jsm: JetStreamManager, names: IngestNames): Promise<void> {
  await ensureStream(jsm, {
    name: BATCH_STREAM,
    subjects: ['visor.ingest.batch.*'],
    retention: RetentionPolicy.Workqueue,
    storage: StorageType.File,
    // A coordinator re-sending a batch after a lost acknowledgement is not queued twice.
    duplicate_window: nanos(10 * 60_000),
  });
  await ensureStream(jsm, {
    name: RESULT_STREAM,
    subjects: ['visor.ingest.result.*.*'],
    retention: RetentionPolicy.Limits,
    storage: StorageType.File,
    max_age: nanos(7 * 24 * 3600_000),
  });
  try {
    await jsm.consumers.info(BATCH_STREAM, names.consumer);
  } catch {
    await jsm.consumers.add(BATCH_STREAM, {
      durable_name: names.consumer,
      filter_subject: names.batchSubject,
      ack_policy: AckPolicy.Explicit,
      deliver_policy: DeliverPolicy.All,
      ack_wait: nanos(ACK_WAIT_MS),
      max_deliver: MAX_DELIVER,
      // Enough for every worker's batch in flight; each worker asks for one at a time.
      max_ack_pending: 10_000,
    });
  }
}
