import { afterAll, describe, expect, it } from 'vitest';
import { ExactKernel, HELD_MATRIX_FLOATS } from '../src/store/exact-kernel.js';

/** Deterministic pseudo-random values in [-0.5, 0.5). */
function values(count: number, seed: number): Float32Array {
  let s = seed >>> 0;
  return Float32Array.from({ length: count }, () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32 - 0.5;
  });
}

describe('ExactKernel.scoreAll', () => {
  const dim = 512;
  const n = Math.ceil(HELD_MATRIX_FLOATS / dim); // large enough to be held as a constant
  const matrix = values(n * dim, 1);
  let kernel: ExactKernel;
  afterAll(() => kernel?.close());

  it('scores a held matrix as the plain dot products, and concurrent calls share a pass with the same bits as alone', async () => {
    kernel = await ExactKernel.create(1);
    const queries = Array.from({ length: 5 }, (_, i) => values(dim, 10 + i));
    const alone: Float32Array[] = [];
    for (const q of queries) alone.push(await kernel.scoreAll(q, 1, matrix, n));
    // Started in the same turn: scored in one batch.
    const together = await Promise.all(queries.map((q) => kernel.scoreAll(q, 1, matrix, n)));
    for (let j = 0; j < queries.length; j++) {
      expect(together[j]!.length).toBe(n);
      expect(
        Buffer.from(together[j]!.buffer, together[j]!.byteOffset, together[j]!.byteLength).equals(
          Buffer.from(alone[j]!.buffer, alone[j]!.byteOffset, alone[j]!.byteLength),
        ),
      ).toBe(true);
      for (const row of [0, 1, n >> 1, n - 1]) {
        let dot = 0;
        for (let d = 0; d < dim; d++) dot += queries[j]![d]! * matrix[row * dim + d]!;
        expect(alone[j]![row]).toBeCloseTo(dot, 4);
      }
    }
    // Two queries in one call, beside a single one.
    const pair = new Float32Array(2 * dim);
    pair.set(queries[0]!, 0);
    pair.set(queries[1]!, dim);
    const [two, one] = await Promise.all([kernel.scoreAll(pair, 2, matrix, n), kernel.scoreAll(queries[2]!, 1, matrix, n)]);
    expect(Array.from(two!.subarray(0, n))).toEqual(Array.from(alone[0]!));
    expect(Array.from(two!.subarray(n))).toEqual(Array.from(alone[1]!));
    expect(Array.from(one!)).toEqual(Array.from(alone[2]!));
  });
});
