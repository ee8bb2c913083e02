import type { NatsConnection } from 'nats';
import { encodeMessage, type BatchMessage } from './ingest-messages.js';
import type { IngestNames } from './ingest-streams.js';

/**
 * Queues a job's batches; returns each batch's stream sequence (what a max-deliveries advisory
 * names). The batch id is the message id, so a batch sent again within the duplicate window
 * (a retried publish) is stored once.
 */
export async function publishBatches(nc: NatsConnection, names: IngestNames, batches: readonly BatchMessage[]): Promise<Map<number, string>> {
  const js = nc.jetstream();
  const seqs = new Map<number, string>();
  // A few acknowledgements in flight at once: one at a time, a large job waits on each round trip.
  const WINDOW = 64;
  for (let i = 0; i < batches.length; i += WINDOW) {
    const acks = await Promise.all(batches.slice(i, i + WINDOW).map((b) => js.publish(names.batchSubject, encodeMessage(b), { msgID: b.batch })));
    acks.forEach((a, j) => seqs.set(a.seq, batches[i + j]!.batch));
  }
  return seqs;
}
