/**
 * One search worker thread (see SearchWorkers): its own Collection on the server's index,
 * answering JSON searches so that searches run on every core while the main thread serves HTTP.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { Collection } from '../collection.js';
import { isVisorError } from '../errors.js';
import type { FromSearchWorker, ToSearchWorker } from './search-workers.js';

const { db } = workerData as { db: string };
const port = parentPort!;
const post = (m: FromSearchWorker) => port.postMessage(m);

try {
  const collection = await Collection.open({ db });
  port.on('message', (m: ToSearchWorker | 'close') => {
    // Closing releases the native models and tables before the thread ends: terminating a
    // thread that holds them crashes the process.
    if (m === 'close') return void collection.close().finally(() => port.close());
    void (async () => {
      try {
        // The main thread has written (or seen) this version: read at least that one, not the
        // view LanceDB refreshes only once a second.
        if ((await collection.version()) < m.version) await collection.store.refresh();
        // Sent as JSON text, the reply's body as it is: one string crosses threads instead of a
        // structured clone of every result, and the main thread has nothing left to serialise.
        // Fields in the order the response schema's serialiser writes them (required ones first).
        const { results, understood, signals, fusion, message, stages } = await collection.search(m.query);
        post({ id: m.id, ok: true, json: JSON.stringify({ results, understood, signals, fusion, message, stages }) });
      } catch (e) {
        post({ id: m.id, ok: false, code: isVisorError(e) ? e.code : undefined, message: e instanceof Error ? e.message : String(e) });
      }
    })();
  });
  post({ id: -1, ok: true });
} catch (e) {
  post({ id: -1, ok: false, message: e instanceof Error ? e.message : String(e) });
}
