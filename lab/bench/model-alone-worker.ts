/**
 * One single-threaded MobileNetV2 session for `npm run bench:index`'s model-alone line: the
 * benchmark runs one of these per core, each on its own share of pre-packed batches.
 */
import { once } from 'node:events';
import { parentPort, workerData } from 'node:worker_threads';
import { MobileNetV2 } from '../../src/models/mobilenet.js';

const { batches } = workerData as { batches: Array<{ buf: Uint8Array; n: number }> };
const model = await MobileNetV2.load({ threads: 1, spinning: false });
await model.run(batches[0]!.buf, batches[0]!.n); // warm-up
parentPort!.postMessage('ready');
await once(parentPort!, 'message'); // the go-ahead, once every worker is ready
for (const b of batches) await model.run(b.buf, b.n);
await model.close();
parentPort!.postMessage('done');
