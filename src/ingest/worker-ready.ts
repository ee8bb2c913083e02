import type { Worker } from 'node:worker_threads';
import { VisorError, type VisorErrorCode } from '../errors.js';

/** A worker's first message: ready (with what it loaded), or the error that stopped it. */
type FirstMessage = { type: 'ready' } | { type: 'error'; message: string; code?: string } | { type: string };

/**
 * Waits until every worker says it is ready (its model loaded); if one fails, all are stopped
 * and its error is thrown (a VisorError with the worker's code, MODEL_NOT_FOUND when it gave none).
 */
export async function whenReady<M extends FirstMessage, R extends Extract<M, { type: 'ready' }>>(workers: readonly Worker[]): Promise<R[]> {
  try {
    return await Promise.all(
      workers.map(
        (w) =>
          new Promise<R>((resolve, reject) => {
            w.once('message', (m: M) => {
              if (m.type === 'ready') resolve(m as unknown as R);
              else if (m.type === 'error') {
                const e = m as { message: string; code?: string };
                reject(new VisorError((e.code as VisorErrorCode) ?? 'MODEL_NOT_FOUND', e.message));
              } else reject(new Error(`unexpected first message ${m.type}`));
            });
            w.once('error', reject);
          }),
      ),
    );
  } catch (e) {
    await Promise.all(workers.map((w) => w.terminate()));
    throw e;
  }
}
