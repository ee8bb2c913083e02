import type { NatsConnection } from 'nats';
import { decodeMessage, encodeMessage, type BatchResult } from './ingest-messages.js';
import { BATCH_STREAM, RESULT_STREAM, type IngestNames } from './ingest-streams.js';

/** Records a finished batch for its job's coordinator (kept in the results stream, so a coordinator that reconnects still sees it). */
export async function publishResult(nc: NatsConnection, names: IngestNames, r: BatchResult): Promise<void> {
  await nc.jetstream().publish(names.resultSubject(r.job), encodeMessage(r));
}

export interface ResultWatch {
  /** Results of the job as they come (a batch may come twice), from the start of the job. */
  results: AsyncIterable<BatchResult>;
  stop(): Promise<void>;
}

/** Follows a job's results from its first one (an ordered consumer: nothing to clean up afterwards). */
export async function watchResults(nc: NatsConnection, names: IngestNames, job: string): Promise<ResultWatch> {
  const consumer = await nc.jetstream().consumers.get(RESULT_STREAM, { filterSubjects: names.resultSubject(job) });
  const messages = await consumer.consume();
  return {
    results: (async function* () {
      for await (const m of messages) yield decodeMessage<BatchResult>(m.data);
    })(),
    stop: async () => {
      await messages.close();
    },
  };
}

/**
 * Calls `onGivenUp` with the stream sequence of every batch of the collection given up after
 * its last delivery (a worker died on it each time, so none could report it).
 */
export function watchGivenUp(nc: NatsConnection, names: IngestNames, onGivenUp: (seq: number) => void): { stop(): void } {
  const sub = nc.subscribe(`$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES.${BATCH_STREAM}.${names.consumer}`, {
    callback: (err, m) => {
      if (err) return;
      const seq = m.json<{ stream_seq?: number }>().stream_seq;
      if (typeof seq === 'number') onGivenUp(seq);
    },
  });
  return { stop: () => sub.unsubscribe() };
}

/** Removes a given-up batch from the queue (it would otherwise stay there, undeliverable). */
export async function dropBatch(nc: NatsConnection, seq: number): Promise<void> {
  await (await nc.jetstreamManager()).streams.deleteMessage(BATCH_STREAM, seq, false).catch(() => undefined);
}
