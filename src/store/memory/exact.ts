/**
 * Exact scoring in plain TypeScript, with the exact kernel's conventions (exact-kernel.ts):
 * scores are inner products rounded to float32; top k ranks best first and breaks ties by the
 * lower row, as ONNX TopK does; `bias` adds to each row's score (-Infinity removes a row, which
 * then only fills places when fewer than k rows remain).
 */

/** Every row's score for each query: count × n. */
export function scoreRows(queries: Float32Array, count: number, matrix: Float32Array, n: number): Float32Array {
  const dim = n === 0 ? 0 : matrix.length / n;
  const out = new Float32Array(count * n);
  for (let q = 0; q < count; q++) {
    const qo = q * dim;
    for (let r = 0; r < n; r++) {
      const ro = r * dim;
      let s = 0;
      for (let d = 0; d < dim; d++) s += queries[qo + d]! * matrix[ro + d]!;
      out[q * n + r] = s;
    }
  }
  return out;
}

/** Top `k` rows of `matrix` (n × dim) for each of `count` queries, as ExactKernel.topK answers. */
export function topK(
  queries: Float32Array,
  count: number,
  matrix: Float32Array,
  n: number,
  bias: Float32Array,
  k: number,
): { scores: Float32Array; rows: Int32Array; k: number } {
  const kk = Math.min(k, n);
  const scores = new Float32Array(count * kk);
  const rows = new Int32Array(count * kk);
  if (kk === 0 || count === 0) return { scores, rows, k: kk };
  const all = scoreRows(queries, count, matrix, n);
  const order = new Int32Array(n);
  for (let q = 0; q < count; q++) {
    const s = all.subarray(q * n, (q + 1) * n);
    for (let r = 0; r < n; r++) s[r] = s[r]! + bias[r]!;
    for (let r = 0; r < n; r++) order[r] = r;
    order.sort((a, b) => s[b]! - s[a]! || a - b || 0);
    for (let j = 0; j < kk; j++) {
      rows[q * kk + j] = order[j]!;
      scores[q * kk + j] = s[order[j]!]!;
    }
  }
  return { scores, rows, k: kk };
}
