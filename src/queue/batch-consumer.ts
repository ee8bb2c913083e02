import type { JsMsg, NatsConnection } from 'nats';
import { decodeMessage, type BatchMessage } from './ingest-messages.js';
import { ACK_WAIT_MS, BATCH_STREAM, MAX_DELIVER, type IngestNames } from './ingest-streams.js';

/** What the handler of one batch decides. */
export type BatchVerdict = { done: true } | { done: false; retryInMs: number };

export interface DeliveredBatch {
  batch: BatchMessage;
  /** The message's stream sequence: the same on every redelivery of it, different for a copy sent again. */
  seq: number;
  /** 1 on first delivery. */
  delivery: number;
  /** True on the last delivery the queue allows: a batch not done now is given up. */
  last: boolean;
}

export interface ConsumeOptions {
  /** Stop after the current batch (SIGTERM, Ctrl-C). */
  signal?: AbortSignal;
  /** Return once no batch has come for this long (ms). */
  idleExitMs?: number;
}

/**
 * Takes the collection's batches one at a time and hands each to `handle`, telling the queue
 * the worker is still busy every few seconds so a long batch is not redelivered; acks it when
 * handled, or asks for it again later. A worker that dies mid-batch simply stops reporting
 * progress: the batch goes to another worker after the ack wait. Returns the number of batches handled.
 */
export async function consumeBatches(
  nc: NatsConnection,
  names: IngestNames,
  handle: (d: DeliveredBatch) => Promise<BatchVerdict>,
  opts: ConsumeOptions = {},
): Promise<number> {
  const consumer = await nc.jetstream().consumers.get(BATCH_STREAM, names.consumer);
  let idleSince = Date.now();
  let handled = 0;
  while (!opts.signal?.aborted) {
    if (opts.idleExitMs !== undefined && Date.now() - idleSince >= opts.idleExitMs) break;
    const waitMs = Math.min(2_000, Math.max(500, (opts.idleExitMs ?? Infinity) - (Date.now() - idleSince)));
    let msg: JsMsg | null;
    try {
      msg = await consumer.next({ expires: waitMs });
    } catch {
      // The server went away for a moment: the connection reconnects by itself.
      await new Promise((r) => setTimeout(r, 1_000));
      continue;
    }
    if (!msg) continue;
    const heartbeat = setInterval(() => msg.working(), ACK_WAIT_MS / 3);
    try {
      const delivery = msg.info.deliveryCount;
      const verdict = await handle({ batch: decodeMessage<BatchMessage>(msg.data), seq: msg.info.streamSequence, delivery, last: delivery >= MAX_DELIVER });
      if (verdict.done) await msg.ackAck();
      else msg.nak(verdict.retryInMs);
    } finally {
      clearInterval(heartbeat);
    }
    handled++;
    idleSince = Date.now();
  }
  return handled;
}
