/**
 * One training run in a worker thread. TensorFlow.js's WASM backend computes on one core in
 * Node, so training two models at once (the fusion modules an evaluation compares) takes the
 * time of one on a two-core machine. Images arrive in shared memory, weights leave as arrays.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { errorMessage } from '../../../src/errors.js';
import { ImageTable } from '../../../src/compose/image-table.js';
import { initTf } from '../../../src/compose/tf.js';
import { trainNetwork } from './train.js';
import type { TrainJob, TrainerMessage } from './train-protocol.js';

const job = workerData as TrainJob;
const port = parentPort!;
const post = (m: TrainerMessage, transfer: ArrayBuffer[] = []) => port.postMessage(m, transfer);

async function main(): Promise<void> {
  await initTf(job.backend);
  const t = job.images;
  const table = new ImageTable(t.count, t.shape, t.data, t.offset, t.scale);
  let lastPost = 0;
  const { params, log } = await trainNetwork(job.config, table, job.textRows, job.triplets, {
    ...job.settings,
    onStep: (s) => {
      const now = Date.now();
      if (now - lastPost < 250 && s.step < s.steps) return;
      lastPost = now;
      post({ type: 'step', ...s });
    },
  });
  const weights: Extract<TrainerMessage, { type: 'done' }>['weights'] = {};
  for (const [name, v] of Object.entries(params)) weights[name] = { shape: v.shape, data: v.dataSync() as Float32Array };
  post(
    { type: 'done', weights, log },
    Object.values(weights).map((w) => w.data.buffer as ArrayBuffer),
  );
}

main().catch((e) => post({ type: 'error', message: errorMessage(e) }));
