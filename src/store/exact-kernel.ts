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
function buildGraph(withTopK = true, held?: { matrix: Float32Array; n: number }): Uint8Array {
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
  if (held) {
    // The matrix and a zero bias become constants of the graph instead of inputs.
    graph.input.splice(1, 2);
    const dim = held.matrix.length / held.n;
    const raw = (a: Float32Array) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
    graph.initializer = [
      onnx.TensorProto.create({ name: 'matrix', dataType: F, dims: [held.n, dim], rawData: raw(held.matrix) }),
      onnx.TensorProto.create({ name: 'bias', dataType: F, dims: [held.n], rawData: raw(new Float32Array(held.n)) }),
    ];
  }
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

/**
 * Matrices at least this large (floats) get a scorer of their own that holds them (see
 * ExactKernel.scoreAll); smaller ones are cheap to pass per call, and a table that changes often
 * would rebuild one per version.
 */
export const HELD_MATRIX_FLOATS = 4_000_000;

interface HeldScorer {
  matrix: Float32Array;
  session: Promise<ort.InferenceSession>;
  running: number;
  /** Calls waiting for the next pass over the matrix (see ExactKernel.scoreAll). */
  queue: Array<{ queries: Float32Array; count: number; resolve: (s: Float32Array) => void; reject: (e: unknown) => void }>;
}

/** Queries scored in one pass at most: the scores of a batch stay a few MB. */
const MAX_BATCH = 16;

export class ExactKernel {
  /** Per-matrix scorers (the store's matrices are replaced, never changed, when the table changes). */
  private held: HeldScorer[] = [];
  private readonly retired = new Set<HeldScorer>();

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

  /**
   * Every row's score for each query: count × n, for fusing several signals item by item.
   * A large matrix is built into a session of its own as a constant, once per matrix:
   * onnxruntime then lays it out for its matrix kernel ahead of time ("prepacking"), and one
   * query over 10,000 × 1280 takes about 1.2 ms instead of 2.2 ms (a server runs one per text
   * search). The sums then round in another order (last bits of some scores differ).
   *
   * Calls made in the same turn of the event loop (a server's concurrent searches) share one
   * pass: the product is bound by reading the matrix, so scoring 4 queries in one pass costs
   * about 1.5 times one. Each query's scores are the same as alone (measured bit for bit).
   */
  async scoreAll(queries: Float32Array, count: number, matrix: Float32Array, n: number): Promise<Float32Array> {
    const dim = matrix.length / n;
    if (matrix.length >= HELD_MATRIX_FLOATS && count > 0) {
      const h = this.heldFor(matrix, n);
      h.running++;
      try {
        return await new Promise<Float32Array>((resolve, reject) => {
          if (h.queue.push({ queries: queries.subarray(0, count * dim), count, resolve, reject }) === 1) setImmediate(() => void this.runBatches(h, n, dim));
        });
      } finally {
        h.running--;
        if (this.retired.has(h) && h.running === 0) this.release(h);
      }
    }
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

  /** Scores every waiting call, up to MAX_BATCH queries a pass. */
  private async runBatches(h: HeldScorer, n: number, dim: number): Promise<void> {
    const session = await h.session.catch((e: unknown) => (e instanceof Error ? e : new Error(String(e))));
    while (h.queue.length) {
      const batch: HeldScorer['queue'] = [];
      let rows = 0;
      while (h.queue.length && (batch.length === 0 || rows + h.queue[0]!.count <= MAX_BATCH)) {
        const c = h.queue.shift()!;
        batch.push(c);
        rows += c.count;
      }
      if (session instanceof Error) {
        for (const c of batch) c.reject(session);
        continue;
      }
      try {
        let q = batch[0]!.queries;
        if (batch.length > 1) {
          q = new Float32Array(rows * dim);
          let at = 0;
          for (const c of batch) {
            q.set(c.queries, at * dim);
            at += c.count;
          }
        }
        const out = (await session.run({ queries: new ort.Tensor('float32', q, [rows, dim]) })).all_scores!.data as Float32Array;
        let at = 0;
        for (const c of batch) {
          c.resolve(batch.length === 1 ? out : out.slice(at * n, (at + c.count) * n));
          at += c.count;
        }
      } catch (e) {
        for (const c of batch) c.reject(e);
      }
    }
  }

  /** The scorer holding `matrix`; at most two are kept (vectors and probabilities), oldest retired. */
  private heldFor(matrix: Float32Array, n: number): HeldScorer {
    let h = this.held.find((x) => x.matrix === matrix);
    if (h) return h;
    const opts = { intraOpNumThreads: 1, interOpNumThreads: 1 };
    const session = ort.InferenceSession.create(buildGraph(false, { matrix, n }), opts);
    const made: HeldScorer = (h = { matrix, session, running: 0, queue: [] });
    // A failed build is not kept: the next call tries again.
    session.catch(() => (this.held = this.held.filter((x) => x !== made)));
    this.held.push(h);
    while (this.held.length > 2) {
      const old = this.held.shift()!;
      this.retired.add(old);
      if (old.running === 0) this.release(old);
    }
    return h;
  }

  private release(h: HeldScorer): void {
    this.retired.delete(h);
    void h.session.then((s) => s.release()).catch(() => undefined);
  }

  async close(): Promise<void> {
    const held = [...this.held, ...this.retired];
    this.held = [];
    this.retired.clear();
    await Promise.all([this.session.release(), this.scorer.release(), ...held.map((h) => h.session.then((s) => s.release()).catch(() => undefined))]);
  }
}
