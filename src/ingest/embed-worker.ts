/**
 * One embedding worker: decodes images (sharp, on libuv's threads), packs them into batches
 * and runs the image model with a single inference thread. Several such workers use the
 * cores better than one multi-threaded session, whose threads wait on each other, and they
 * leave the main thread free to read, hash and store.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { decodeForModel } from '../image/decode.js';
import { errorMessage, isVisorError } from '../errors.js';
import { loadImageEncoder, type ImageEncoderOptions } from '../models/load-encoder.js';
import type { FromWorker, ToWorker, WorkerConfig } from './embed-protocol.js';

const config = workerData as WorkerConfig;
const port = parentPort!;
const post = (m: FromWorker, transfer: ArrayBuffer[] = []) => port.postMessage(m, transfer);

interface Slot {
  id: string;
  width: number;
  height: number;
  format: string;
}

async function main(): Promise<void> {
  // config.model.id picks the model (MobileNetV2 by default, or a CLIP-family vision tower).
  const model = await loadImageEncoder({ ...(config.model as ImageEncoderOptions), threads: config.threads, spinning: false });
  const size = model.inputSize;
  // Two batch buffers: decodes finishing during a run pack into the other one.
  const buffers = [model.newBatch(config.batchSize), model.newBatch(config.batchSize)];
  let current = 0;
  let slots: Slot[] = [];
  const queue: Array<{ id: string; bytes: Uint8Array }> = [];
  let decoding = 0;
  let running = false;
  let flushWanted = false;

  const runBatch = async (): Promise<void> => {
    if (slots.length === 0 || running) return;
    running = true;
    const batch = slots;
    const buf = buffers[current]!;
    slots = [];
    current = 1 - current;
    // The run blocks this thread (onnxruntime-node runs synchronously): start the next batch's
    // decodes first, so libuv's threads decode while the model runs instead of waiting for it.
    pump();
    try {
      const out = await model.run(buf, batch.length);
      post({ type: 'embedded', items: batch, features: out.features, probs: out.probs }, [out.features.buffer as ArrayBuffer, out.probs.buffer as ArrayBuffer]);
    } catch (e) {
      for (const s of batch) post({ type: 'failed', id: s.id, reason: `model failed: ${errorMessage(e)}` });
    }
    running = false;
    pump(); // decodes waited for this batch's buffer to be free
    settle();
  };

  // Run when a batch is full, or when nothing else is coming: waiting for a full batch that
  // the main thread is itself waiting on would deadlock, and batch size matters little here.
  const settle = (): void => {
    if (running) return;
    const idle = decoding === 0 && queue.length === 0;
    if (slots.length >= config.batchSize || (slots.length > 0 && idle)) {
      void runBatch();
      return;
    }
    if (idle && flushWanted) {
      flushWanted = false;
      post({ type: 'flushed' });
    }
  };

  const pump = (): void => {
    // Never more decoded-or-decoding images than one batch buffer holds.
    while (decoding < config.decodeConcurrency && queue.length > 0 && slots.length + decoding < config.batchSize) {
      const { id, bytes } = queue.shift()!;
      decoding++;
      const file = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      const limits = { maxPixels: config.maxPixels };
      // Models with their own resize and crop (CLIP) decode for themselves.
      (model.decode ? model.decode(file, limits) : decodeForModel(file, size, limits))
        .then((input) => {
          model.pack(buffers[current]!, slots.length, input.pixels);
          slots.push({ id, width: input.width, height: input.height, format: input.format });
        })
        .catch((e: unknown) => post({ type: 'failed', id, reason: isVisorError(e) ? e.message : `cannot decode (${errorMessage(e)})` }))
        .finally(() => {
          decoding--;
          pump();
          settle();
        });
    }
  };

  port.on('message', (m: ToWorker) => {
    if (m.type === 'image') {
      queue.push({ id: m.id, bytes: m.bytes });
      pump();
    } else if (m.type === 'flush') {
      flushWanted = true;
      settle();
    } else if (m.type === 'close') {
      void model.close().then(() => process.exit(0));
    }
  });
  post({ type: 'ready', featureDim: model.featureDim, numClasses: model.numClasses, inputSize: size, modelId: model.id });
}

main().catch((e: unknown) => post({ type: 'error', message: errorMessage(e), code: isVisorError(e) ? e.code : undefined }));
