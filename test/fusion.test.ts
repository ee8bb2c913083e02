import { describe, expect, it } from 'vitest';
import { RRF_K, fuse, topIndices } from '../src/search/fusion.js';

describe('fusion', () => {
  it('ranks the best scores above a floor, best first', () => {
    const s = Float32Array.from([0.1, 0.9, 0, 0.5, 0.7]);
    expect(Array.from(topIndices(s, 3, 0))).toEqual([1, 4, 3]);
    expect(Array.from(topIndices(s, 10, 0.2))).toEqual([1, 4, 3]);
  });

  it('fills k from the rows a filter admits, even when better rows are filtered out', () => {
    // 100 rows, the best 90 filtered out: the top 5 of the 10 admitted rows must still come back.
    const s = Float32Array.from({ length: 100 }, (_, i) => i + 1);
    const mask = Uint8Array.from({ length: 100 }, (_, i) => (i < 10 ? 1 : 0));
    expect(Array.from(topIndices(s, 5, 0, mask))).toEqual([9, 8, 7, 6, 5]);
    expect(Array.from(topIndices(s, 5, 0, new Uint8Array(100)))).toEqual([]);
  });

  it('gives tied scores the same reciprocal rank, so storage order does not decide', () => {
    // Keyword scores tie for items 0–2; the visual signal prefers item 2.
    const keywords = Float32Array.from([3, 3, 3, 0]);
    const visual = Float32Array.from([0.2, 0.5, 0.9, 0.1]);
    const f = fuse(
      [
        { scores: keywords, weight: 1, polarity: 1, floor: 0 },
        { scores: visual, weight: 1, polarity: 1 },
      ],
      4,
      'rrf',
    );
    expect(f[2]).toBeCloseTo(1 / (RRF_K + 1) + 1 / (RRF_K + 1), 7);
    expect(f[0]).toBeCloseTo(1 / (RRF_K + 1) + 1 / (RRF_K + 3), 7);
    expect(f[2]!).toBeGreaterThan(f[1]!);
    expect(f[1]!).toBeGreaterThan(f[0]!);
  });

  it('pushes items down with a negative signal and leaves items without evidence out', () => {
    const pos = Float32Array.from([2, 1, 0]);
    const neg = Float32Array.from([5, 0, 0]);
    const f = fuse(
      [
        { scores: pos, weight: 1, polarity: 1, floor: 0 },
        { scores: neg, weight: 1, polarity: -1, floor: 0 },
      ],
      3,
      'rrf',
    );
    expect(f[1]!).toBeGreaterThan(f[0]!);
    expect(f[2]).toBe(-Infinity);
  });
});

describe('topIndices with a mask', () => {
  it('fills all m places from the unmasked items (masked ones take no place in the top m)', () => {
    const s = Float32Array.from({ length: 40 }, (_, i) => i);
    const mask = new Uint8Array(40).fill(1);
    mask[39] = 0; // the best item is excluded (a query's own image, a feedback item)
    expect(Array.from(topIndices(s, 5, -Infinity, mask))).toEqual([38, 37, 36, 35, 34]);
    expect(Array.from(topIndices(s, 5, -Infinity, new Uint8Array(40)))).toEqual([]);
  });
});

describe('topIndices order', () => {
  it('is the comparator order (score descending, then row) for ties, ±0, infinities, negatives and NaN', () => {
    let seed = 7;
    const rand = () => (seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32;
    const pool = [0, -0, 1, -1, 0.5, -0.5, Infinity, -Infinity, NaN, 1e-30, -1e-30, 3.4e38, -3.4e38];
    const s = Float32Array.from({ length: 4000 }, () => (rand() < 0.3 ? pool[Math.floor(rand() * pool.length)]! : (rand() - 0.5) * 10));
    const mask = Uint8Array.from(s, () => (rand() < 0.9 ? 1 : 0));
    for (const [m, floor, mk] of [
      [4000, -Infinity, undefined],
      [1500, 0, undefined],
      [3000, -1, mask],
      [300, 0, mask],
      [100, -Infinity, undefined],
      [10, -Infinity, mask],
    ] as const) {
      const want = Array.from(s.keys())
        .filter((i) => s[i]! > floor && (!mk || mk[i]))
        .sort((a, b) => s[b]! - s[a]! || a - b)
        .slice(0, m);
      expect(Array.from(topIndices(s, m, floor, mk))).toEqual(want);
    }
  });
});
