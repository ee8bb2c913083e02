/**
 * One facts worker: loads the readers of the enabled stages (one inference thread each) and
 * computes the facts of the images it is sent, one at a time, decoding the next ones (sharp,
 * on libuv's threads) while the models run. One worker per core, as for embedding.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { FactStage } from '../core/facts.js';
import { errorMessage, isVisorError } from '../errors.js';
import { computeFacts, decodeForFacts } from '../facts/compute.js';
import { loadFactReaders } from '../facts/readers.js';
import type { FactsWorkerConfig, FromFactsWorker, ToFactsWorker } from './facts-protocol.js';

const config = workerData as FactsWorkerConfig;
const port = parentPort!;
const post = (m: FromFactsWorker) => port.postMessage(m);

type Job = Extract<ToFactsWorker, { type: 'image' }>;
type Decoded = { job: Job; decoded: Awaited<ReturnType<typeof decodeForFacts>> };

async function main(): Promise<void> {
  const readers = await loadFactReaders(config.stages, { threads: config.threads, paths: config.paths });
  const limits = { maxPixels: config.maxPixels };
  const queue: Job[] = [];
  const ready: Decoded[] = [];
  let decoding = 0;
  let running = false;

  const run = async (): Promise<void> => {
    if (running) return;
    running = true;
    while (ready.length > 0) {
      const { job, decoded } = ready.shift()!;
      pump();
      try {
        const facts = await computeFacts(decoded.image, decoded, readers, job.stages, job.existing);
        post({ type: 'facts', id: job.id, facts });
      } catch (e) {
        post({ type: 'failed', id: job.id, reason: `facts failed: ${errorMessage(e)}` });
      }
    }
    running = false;
    pump();
  };

  const pump = (): void => {
    // Decoded images wait in memory (up to ~5 MB each): only a few ahead.
    while (queue.length > 0 && decoding + ready.length < config.decodeAhead) {
      const job = queue.shift()!;
      decoding++;
      decodeForFacts(Buffer.from(job.bytes.buffer, job.bytes.byteOffset, job.bytes.byteLength), limits)
        .then((decoded) => ready.push({ job, decoded }))
        .catch((e: unknown) => post({ type: 'failed', id: job.id, reason: isVisorError(e) ? e.message : `cannot decode (${errorMessage(e)})` }))
        .finally(() => {
          decoding--;
          pump();
          void run();
        });
    }
  };

  port.on('message', (m: ToFactsWorker) => {
    if (m.type === 'image') {
      queue.push(m);
      pump();
    } else if (m.type === 'close') {
      void Promise.all([...readers.values()].map((r) => r.close().catch(() => undefined))).then(() => process.exit(0));
    }
  });
  const ids: Partial<Record<FactStage, string>> = {};
  for (const [s, r] of readers) ids[s] = r.id;
  post({ type: 'ready', readers: ids });
}

main().catch((e: unknown) => post({ type: 'error', message: errorMessage(e), code: isVisorError(e) ? e.code : undefined }));
