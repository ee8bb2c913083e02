import { describe, expect, it } from 'vitest';
import { classMajor, classMass } from '../src/search/class-columns.js';

describe('class-major probabilities', () => {
  it('give the same concept mass as a per-item loop over row-major probabilities, to the bit', () => {
    const n = 301;
    const classes = 37;
    let seed = 11;
    const rand = () => (seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32;
    const rows = Float32Array.from({ length: n * classes }, () => rand() / classes);
    const byClass = classMajor(rows, classes);
    expect(byClass[5 * n + 7]).toBe(rows[7 * classes + 5]);
    // 1 to 9 classes: every remainder of the four-at-a-time loop.
    for (let m = 1; m <= 9; m++) {
      const cls = Int32Array.from({ length: m }, (_, j) => (j * 13 + m) % classes);
      const w = Float32Array.from({ length: m }, () => rand());
      const want = new Float32Array(n);
      for (let i = 0; i < n; i++) {
        let acc = 0;
        for (let j = 0; j < m; j++) acc += w[j]! * rows[i * classes + cls[j]!]!;
        want[i] = acc;
      }
      expect(classMass(byClass, n, cls, w)).toEqual(want);
    }
  });
});
