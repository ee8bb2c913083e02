import { createRequire } from 'node:module';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';

export { tf };

export type TfBackend = 'wasm' | 'cpu';

let ready: Promise<TfBackend> | null = null;

/**
 * Starts TensorFlow.js once per thread. The WASM backend (SIMD, XNNPACK) runs the dense layers
 * several times faster than the pure-JavaScript 'cpu' backend; every op the composition models
 * use has a WASM kernel (see `matMulFast` for the gradients we route around). In Node it runs
 * on one core (no WASM threads), so parallel work means parallel worker threads.
 */
export function initTf(backend: TfBackend = 'wasm'): Promise<TfBackend> {
  ready ??= (async () => {
    if (backend === 'wasm') {
      const main = createRequire(import.meta.url).resolve('@tensorflow/tfjs-backend-wasm');
      setWasmPaths(path.dirname(main) + path.sep);
    }
    if (!(await tf.setBackend(backend))) throw new Error(`TensorFlow.js backend ${backend} did not start`);
    await tf.ready();
    return backend;
  })();
  return ready;
}
