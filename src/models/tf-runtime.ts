import { createRequire } from 'node:module';
import path from 'node:path';
import type * as TF from '@tensorflow/tfjs';

export type Tf = typeof TF;

let ready: Promise<Tf> | null = null;

/**
 * TensorFlow.js on its WASM backend, started once per process. WASM (SIMD, single thread)
 * runs matrix products ~25× faster than the pure-JavaScript 'cpu' backend here. Loaded only
 * when a joint model is trained or used, so the rest of Visor never pays for it.
 */
export function loadTf(): Promise<Tf> {
  ready ??= (async () => {
    const tf = await import('@tensorflow/tfjs');
    const wasm = await import('@tensorflow/tfjs-backend-wasm');
    const require = createRequire(import.meta.url);
    const dist = path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm'));
    wasm.setWasmPaths(`${dist}${path.sep}`);
    registerMissingWasmKernels(tf);
    await tf.setBackend('wasm');
    await tf.ready();
    return tf;
  })();
  return ready;
}

interface WasmBackend {
  makeOutput(shape: number[], dtype: string): TF.TensorInfo;
  typedArrayFromHeap(t: TF.TensorInfo): Float32Array | Int32Array;
  disposeData(dataId: object): void;
}

/**
 * The WASM BatchMatMul is far slower with a transposed operand (here 708 ms against 20 ms for
 * a 2280×128 by 128×1024 product with transposeA, 323 ms against 47 ms with transposeB), and
 * every gradient of a dense layer is such a product. Transposing explicitly first, then
 * multiplying, takes the fast path.
 */
function fastTransposedMatMul(tf: Tf): void {
  const matMul = tf.getKernel('BatchMatMul', 'wasm');
  const transpose = tf.getKernel('Transpose', 'wasm');
  if (!matMul || !transpose) return;
  tf.unregisterKernel('BatchMatMul', 'wasm');
  tf.registerKernel({
    kernelName: 'BatchMatMul',
    backendName: 'wasm',
    setupFunc: matMul.setupFunc,
    kernelFunc: (args) => {
      const { a, b } = args.inputs as { a: TF.TensorInfo; b: TF.TensorInfo };
      const attrs = args.attrs as { transposeA: boolean; transposeB: boolean };
      if (!attrs.transposeA && !attrs.transposeB) return matMul.kernelFunc(args);
      const t = (x: TF.TensorInfo): TF.TensorInfo => {
        const rank = x.shape.length;
        const perm = [...Array.from({ length: rank - 2 }, (_, i) => i), rank - 1, rank - 2];
        return transpose.kernelFunc({ inputs: { x }, attrs: { perm }, backend: args.backend }) as TF.TensorInfo;
      };
      const at = attrs.transposeA ? t(a) : a;
      const bt = attrs.transposeB ? t(b) : b;
      try {
        return matMul.kernelFunc({ inputs: { a: at, b: bt }, attrs: { ...attrs, transposeA: false, transposeB: false }, backend: args.backend });
      } finally {
        const backend = args.backend as unknown as WasmBackend;
        if (at !== a) backend.disposeData(at.dataId);
        if (bt !== b) backend.disposeData(bt.dataId);
      }
    },
  });
}

/**
 * The WASM backend has no UnsortedSegmentSum, which the gradient of `gather` (embedding
 * lookups) needs. A plain loop over the heap is enough: it runs once per step on a few
 * thousand token rows.
 */
function registerMissingWasmKernels(tf: Tf): void {
  fastTransposedMatMul(tf);
  if (tf.getKernel('UnsortedSegmentSum', 'wasm')) return;
  tf.registerKernel({
    kernelName: 'UnsortedSegmentSum',
    backendName: 'wasm',
    kernelFunc: ({ inputs, attrs, backend }) => {
      const { x, segmentIds } = inputs as { x: TF.TensorInfo; segmentIds: TF.TensorInfo };
      const numSegments = (attrs as { numSegments: number }).numSegments;
      const b = backend as unknown as WasmBackend;
      const rows = x.shape[0]!;
      const width = x.shape.slice(1).reduce((a, d) => a * d, 1);
      const out = b.makeOutput([numSegments, ...x.shape.slice(1)], x.dtype);
      const dst = b.typedArrayFromHeap(out);
      dst.fill(0);
      const src = b.typedArrayFromHeap(x);
      const ids = b.typedArrayFromHeap(segmentIds);
      for (let r = 0; r < rows; r++) {
        const s = ids[r]!;
        if (s < 0 || s >= numSegments) continue;
        const o = s * width;
        const i = r * width;
        for (let j = 0; j < width; j++) dst[o + j]! += src[i + j]!;
      }
      return out;
    },
  });
}
