import os from 'node:os';
import onnxProto from 'onnx-proto';
import * as ort from 'onnxruntime-node';

const { onnx } = onnxProto;

/**
 * Exhaustive top-k by inner product, as a two-node ONNX graph (Gemm then TopK) run by
 * onnxruntime: the matrix product uses the same optimised kernels as the models, about 20×
 * faster than a JavaScript loop, and TopK avoids sorting every score in JavaScript.
 * `bias` adds a per-row term before ranking; -Infinity removes a row (filters, exclusions).
 */
function buildGraph(withTopK = true): Uint8Array {
  const F = onnx.TensorProto.DataType.FLOAT;
  const I64 = onnx.TensorProto.DataType.INT64;
  const vi = (name: string, type: number, dims: Array<number | string>) =>
    onnx.ValueInfoProto.create({
      name,
      type: { tensorType: { elemType: type, shape: { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) } } },
    });
  const graph = onnx.GraphProto.create({
    name: 'exact_topk',
    input: [vi('queries', F, ['B', 'D']), vi('matrix', F, ['N', 'D']), vi('bias', F, ['N']), vi('k', I64, [1])],
    output: withTopK ? [vi('scores', F, ['B', 'K']), vi('indices', I64, ['B', 'K'])] : [vi('all_scores', F, ['B', 'N'])],
    node: [
      onnx.NodeProto.create({
        opType: 'Gemm',
        input: ['queries', 'matrix', 'bias'],
        output: ['all_scores'],
        attribute: [onnx.AttributeProto.create({ name: 'transB', type: onnx.AttributeProto.AttributeType.INT, i: 1 })],
      }),
      ...(withTopK ? [onnx.NodeProto.create({ opType: 'TopK', input: ['all_scores', 'k'], output: ['scores', 'indices'] })] : []),
    ],
  });
  if (!withTopK) graph.input.pop(); // no k
  const model = onnx.ModelProto.create({ irVersion: 8, opsetImport: [{ domain: '', version: 13 }], graph });
  return onnx.ModelProto.encode(model).finish();
}

export interface TopK {
  /** count × k scores, best first. */
  scores: Float32Array;
  /** count × k row numbers into the matrix. */
  rows: Int32Array;
  k: number;
}

export class ExactKernel {
  private constructor(
    private readonly session: ort.InferenceSession,
    private readonly scorer: ort.InferenceSession,
  ) {}

  static async create(threads = os.availableParallelism()): Promise<ExactKernel> {
    const opts = { intraOpNumThreads: threads, interOpNumThreads: 1 };
    // scoreAll serves one query at a time (a search's signals), which is bound by reading the
    // matrix: a second thread saves little time and spends about twice the CPU (measured at
    // 10,000 × 1280: 2.7 ms on one thread, 5.7 ms on two), which a server answering searches
    // side by side needs for the others. Each score is the same dot product either way.
    const [session, scorer] = await Promise.all([
      ort.InferenceSession.create(buildGraph(true), opts),
      ort.InferenceSession.create(buildGraph(false), { ...opts, intraOpNumThreads: 1 }),
    ]);
    return new ExactKernel(session, scorer);
  }

  /** Every row's score for each query: count × n, for fusing several signals item by item. */
  async scoreAll(queries: Float32Array, count: number, matrix: Float32Array, n: number): Promise<Float32Array> {
    const dim = matrix.length / n;
    const out = await this.scorer.run({
      queries: new ort.Tensor('float32', queries.subarray(0, count * dim), [count, dim]),
      matrix: new ort.Tensor('float32', matrix, [n, dim]),
      bias: new ort.Tensor('float32', new Float32Array(n), [n]),
    });
    return out.all_scores!.data as Float32Array;
  }

  /**
   * Top `k` rows of `matrix` (n × dim) for each of `count` queries (count × dim). Large query
   * batches are split so the score matrix stays within a few hundred MB.
   */
  async topK(queries: Float32Array, count: number, matrix: Float32Array, n: number, bias: Float32Array, k: number): Promise<TopK> {
    const dim = matrix.length / n;
    const kk = Math.min(k, n);
    const scores = new Float32Array(count * kk);
    const rows = new Int32Array(count * kk);
    if (kk === 0 || count === 0) return { scores, rows, k: kk };
    const step = Math.max(1, Math.min(count, Math.floor(50_000_000 / n)));
    const mat = new ort.Tensor('float32', matrix, [n, dim]);
    const b = new ort.Tensor('float32', bias, [n]);
    const kT = new ort.Tensor('int64', BigInt64Array.from([BigInt(kk)]), [1]);
    for (let start = 0; start < count; start += step) {
      const m = Math.min(step, count - start);
      const q = new ort.Tensor('float32', queries.subarray(start * dim, (start + m) * dim), [m, dim]);
      const out = await this.session.run({ queries: q, matrix: mat, bias: b, k: kT });
      scores.set(out.scores!.data as Float32Array, start * kk);
      const idx = out.indices!.data as BigInt64Array;
      for (let i = 0; i < idx.length; i++) rows[start * kk + i] = Number(idx[i]);
    }
    return { scores, rows, k: kk };
  }

  async close(): Promise<void> {
    await Promise.all([this.session.release(), this.scorer.release()]);
  }
}
