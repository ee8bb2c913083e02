import { describe, expect, it } from 'vitest';
import {
  averagePrecision,
  averagePrecisionNormalized,
  firstRelevantRank,
  fractionalRecallAtK,
  mean,
  medianRank,
  precisionAtK,
  precisionRecallCurve,
  rPrecision,
  recallAtK,
  summarize,
  type RankedQuery,
} from '../lab/eval/metrics.js';

// Every expected value below is worked out by hand in the comment beside it.

const q = (relevant: (0 | 1)[], totalRelevant: number): RankedQuery => ({ relevant, totalRelevant });

// A: relevant at ranks 1 and 3 of 5, R = 3.
const A = q([1, 0, 1, 0, 0], 3);
// C: relevant at ranks 2 and 3 of 3, R = 2 (both relevant items retrieved).
const C = q([0, 1, 1], 2);
// N: nothing relevant retrieved, R = 2.
const N = q([0, 0, 0, 0], 2);
// S: short list, both retrieved items relevant, R = 5 (3 relevant items never retrieved).
const S = q([1, 1], 5);
// Z: R = 0, nothing relevant anywhere.
const Z = q([0, 0], 0);

describe('precisionAtK', () => {
  it('counts hits in the top k over k', () => {
    expect(precisionAtK(A, 1)).toBe(1); // rank 1 relevant: 1/1
    expect(precisionAtK(A, 3)).toBeCloseTo(2 / 3, 12); // ranks 1,3 relevant: 2/3
    expect(precisionAtK(A, 5)).toBeCloseTo(0.4, 12); // 2 hits / 5
    expect(precisionAtK(C, 2)).toBe(0.5); // [0,1]: 1/2
  });
  it('counts positions past the end of the list as misses', () => {
    expect(precisionAtK(A, 10)).toBeCloseTo(0.2, 12); // 2 hits / 10
    expect(precisionAtK(S, 4)).toBe(0.5); // 2 hits / 4
  });
  it('is 0 with no relevant item retrieved', () => {
    expect(precisionAtK(N, 2)).toBe(0); // 0/2
  });
  it('accepts booleans and Uint8Array', () => {
    expect(precisionAtK({ relevant: [true, false, true], totalRelevant: 2 }, 3)).toBeCloseTo(2 / 3, 12); // 2/3
    expect(precisionAtK({ relevant: Uint8Array.of(0, 1, 1, 0), totalRelevant: 2 }, 4)).toBe(0.5); // 2/4
  });
  it('rejects k < 1 and non-integer k', () => {
    expect(() => precisionAtK(A, 0)).toThrow(RangeError);
    expect(() => precisionAtK(A, 1.5)).toThrow(RangeError);
  });
});

describe('recallAtK (any hit) and fractionalRecallAtK', () => {
  it('is 1 as soon as one relevant item is in the top k', () => {
    expect(recallAtK(A, 1)).toBe(1); // rank 1 relevant
    expect(recallAtK(C, 1)).toBe(0); // rank 1 not relevant
    expect(recallAtK(C, 2)).toBe(1); // rank 2 relevant
    expect(recallAtK(N, 4)).toBe(0); // nothing relevant
    expect(recallAtK(A, 100)).toBe(1); // k past the end: any hit in the whole list
  });
  it('fractional recall is hits in top k over R', () => {
    expect(fractionalRecallAtK(A, 1)).toBeCloseTo(1 / 3, 12); // 1 hit / R=3
    expect(fractionalRecallAtK(A, 5)).toBeCloseTo(2 / 3, 12); // 2 hits / R=3
    expect(fractionalRecallAtK(S, 10)).toBeCloseTo(0.4, 12); // k past the end: 2 hits / R=5
    expect(fractionalRecallAtK(N, 4)).toBe(0); // 0 / 2
    expect(fractionalRecallAtK(Z, 2)).toBe(0); // R = 0 → 0 by convention
  });
  it('throws when the ranking holds more relevant items than R', () => {
    // 3 hits but R = 2: the query was probably left in its own ranking.
    expect(() => fractionalRecallAtK(q([1, 1, 1], 2), 3)).toThrow(RangeError);
  });
});

describe('averagePrecision (hashing: / hits) and averagePrecisionNormalized (/ min(R,k))', () => {
  it('works the example from the brief', () => {
    // A = [1,0,1,0,0], R=3: relevant ranks 1 and 3, P@1 = 1, P@3 = 2/3, sum = 5/3.
    expect(averagePrecision(A, 5)).toBeCloseTo(5 / 6, 12); // (5/3) / 2 hits = 0.8333
    expect(averagePrecisionNormalized(A, 5)).toBeCloseTo(5 / 9, 12); // (5/3) / min(3,5)=3 = 0.5556
    // k undefined: whole list, same sums.
    expect(averagePrecision(A)).toBeCloseTo(5 / 6, 12); // (5/3) / 2
    expect(averagePrecisionNormalized(A)).toBeCloseTo(5 / 9, 12); // (5/3) / R=3
  });
  it('cuts at k', () => {
    // Top 2 of A = [1,0]: sum = P@1 = 1, 1 hit.
    expect(averagePrecision(A, 2)).toBe(1); // 1 / 1
    expect(averagePrecisionNormalized(A, 2)).toBe(0.5); // 1 / min(3,2)=2
    // Top 1 of C = [0]: no hit.
    expect(averagePrecision(C, 1)).toBe(0);
    expect(averagePrecisionNormalized(C, 1)).toBe(0);
  });
  it('agrees between normalisations on a full ranking', () => {
    // C = [0,1,1], R=2, both retrieved: P@2 = 1/2, P@3 = 2/3, sum = 7/6.
    expect(averagePrecision(C)).toBeCloseTo(7 / 12, 12); // (7/6) / 2 hits
    expect(averagePrecisionNormalized(C)).toBeCloseTo(7 / 12, 12); // (7/6) / R=2
  });
  it('handles k past the end of the list', () => {
    // S = [1,1], R=5: P@1 = 1, P@2 = 1, sum = 2.
    expect(averagePrecision(S, 10)).toBe(1); // 2 / 2 hits
    expect(averagePrecisionNormalized(S, 10)).toBeCloseTo(0.4, 12); // 2 / min(5,10)=5
    expect(averagePrecisionNormalized(S, 3)).toBeCloseTo(2 / 3, 12); // 2 / min(5,3)=3
  });
  it('is 0 with no hit or R = 0', () => {
    expect(averagePrecision(N, 4)).toBe(0); // no hit → 0
    expect(averagePrecision(N)).toBe(0);
    expect(averagePrecisionNormalized(N, 4)).toBe(0); // sum 0 / 2
    expect(averagePrecisionNormalized(Z)).toBe(0); // R = 0 → 0 by convention
    expect(averagePrecision(q([], 3))).toBe(0); // empty list
  });
  it('normalised AP throws when hits exceed R', () => {
    expect(() => averagePrecisionNormalized(q([1, 1, 1], 2))).toThrow(RangeError); // 3 hits > R=2
  });
});

describe('rPrecision and firstRelevantRank', () => {
  it('R-precision is P@R', () => {
    expect(rPrecision(A)).toBeCloseTo(2 / 3, 12); // R=3, top 3 = [1,0,1]: 2/3
    expect(rPrecision(C)).toBe(0.5); // R=2, top 2 = [0,1]: 1/2
    expect(rPrecision(N)).toBe(0); // R=2, top 2 = [0,0]
    expect(rPrecision(S)).toBeCloseTo(0.4, 12); // R=5 past the end of [1,1]: 2/5
    expect(rPrecision(Z)).toBe(0); // R = 0 → 0
  });
  it('first relevant rank is 1-based, Infinity with no hit', () => {
    expect(firstRelevantRank(A)).toBe(1);
    expect(firstRelevantRank(C)).toBe(2);
    expect(firstRelevantRank(N)).toBe(Infinity);
    expect(firstRelevantRank(q([], 1))).toBe(Infinity);
  });
});

describe('medianRank and mean', () => {
  it('odd count: middle value', () => {
    expect(medianRank([3, 1, 2])).toBe(2); // sorted 1,2,3 → 2
    expect(medianRank([7])).toBe(7);
  });
  it('even count: mean of the two middle values', () => {
    expect(medianRank([4, 1, 3, 2])).toBe(2.5); // sorted 1,2,3,4 → (2+3)/2
    expect(medianRank([10, 2])).toBe(6); // (2+10)/2
  });
  it('sorts Infinity last', () => {
    expect(medianRank([Infinity, 1, 5])).toBe(5); // 1,5,∞ → 5
    expect(medianRank([1, 3, Infinity, 7])).toBe(5); // 1,3,7,∞ → (3+7)/2
    expect(medianRank([Infinity, 2, Infinity, 1])).toBe(Infinity); // 1,2,∞,∞ → (2+∞)/2
  });
  it('does not modify its input and is NaN when empty', () => {
    const ranks = [3, 1, 2];
    medianRank(ranks);
    expect(ranks).toEqual([3, 1, 2]);
    expect(medianRank([])).toBeNaN();
  });
  it('mean', () => {
    expect(mean([1, 2, 3, 4])).toBe(2.5); // 10/4
    expect(mean([0.5])).toBe(0.5);
    expect(mean([])).toBeNaN();
  });
});

describe('precisionRecallCurve', () => {
  const levels = [0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1];

  it('11-point interpolated precision averaged over queries', () => {
    // Q1 = A = [1,0,1,0,0], R=3. Hits: rank 1 (P=1, recall 1/3), rank 3 (P=2/3, recall 2/3).
    //   levels 0..0.3 (≤ 1/3): max(1, 2/3) = 1
    //   levels 0.4..0.6 (≤ 2/3): 2/3
    //   levels 0.7..1: no rank reaches them → 0
    // Q2 = [0,1,1,0,1], R=3. Hits: rank 2 (P=1/2, rec 1/3), rank 3 (P=2/3, rec 2/3), rank 5 (P=3/5, rec 1).
    //   levels 0..0.3: max(1/2, 2/3, 3/5) = 2/3
    //   levels 0.4..0.6: max(2/3, 3/5) = 2/3
    //   levels 0.7..1: 3/5
    // Mean: 0..0.3 → (1 + 2/3)/2 = 5/6; 0.4..0.6 → (2/3 + 2/3)/2 = 2/3; 0.7..1 → (0 + 3/5)/2 = 3/10.
    const curve = precisionRecallCurve([A, q([0, 1, 1, 0, 1], 3)]);
    const expected = [5 / 6, 5 / 6, 5 / 6, 5 / 6, 2 / 3, 2 / 3, 2 / 3, 0.3, 0.3, 0.3, 0.3];
    expect(curve.recall).toHaveLength(11);
    curve.recall.forEach((r, i) => expect(r).toBeCloseTo(levels[i]!, 12));
    expect(curve.precision).toHaveLength(11);
    curve.precision.forEach((p, i) => expect(p).toBeCloseTo(expected[i]!, 12));
  });
  it('counts a recall exactly equal to a level as reaching it', () => {
    // [1], R=5: one hit at rank 1, P=1, recall exactly 1/5 = 0.2 → levels 0, 0.1, 0.2 get 1; the rest 0.
    const curve = precisionRecallCurve([q([1], 5)]);
    expect(curve.precision).toEqual([1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0]);
    // [0,1,0,1], R=10: hits at rank 2 (P=1/2, rec 0.1), rank 4 (P=1/2, rec 0.2) → levels 0..0.2 get 1/2.
    expect(precisionRecallCurve([q([0, 1, 0, 1], 10)]).precision).toEqual([0.5, 0.5, 0.5, 0, 0, 0, 0, 0, 0, 0, 0]);
  });
  it('takes another number of points', () => {
    // A with 3 points (levels 0, 0.5, 1): level 0 → 1; level 0.5 → only rank 3 (rec 2/3) → 2/3; level 1 → 0.
    const curve = precisionRecallCurve([A], 3);
    expect(curve.recall).toEqual([0, 0.5, 1]);
    expect(curve.precision[0]).toBe(1);
    expect(curve.precision[1]).toBeCloseTo(2 / 3, 12);
    expect(curve.precision[2]).toBe(0);
  });
  it('is all zeros for queries with no hit or R = 0', () => {
    expect(precisionRecallCurve([N, Z]).precision).toEqual(new Array(11).fill(0));
  });
});

describe('summarize', () => {
  it('aggregates three queries', () => {
    // Per query (ks = [1,3], mapAt = [2,3]):
    //   A = [1,0,1,0,0], R=3: first 1; any-hit R@1=1, R@3=1; P@1=1, P@3=2/3;
    //       AP@2 = P@1 / 1 hit = 1; AP@3 = (1 + 2/3)/2 = 5/6; AP all / R = (5/3)/3 = 5/9; R-prec = P@3 = 2/3.
    //   C = [0,1,1], R=2: first 2; R@1=0, R@3=1; P@1=0, P@3=2/3;
    //       AP@2 = P@2 / 1 hit = 1/2; AP@3 = (1/2 + 2/3)/2 = 7/12; AP all = (7/6)/2 = 7/12; R-prec = P@2 = 1/2.
    //   N = [0,0,0,0], R=2: first ∞; everything 0.
    // Means over 3 queries:
    //   recallAtK[1] = (1+0+0)/3 = 1/3;        recallAtK[3] = (1+1+0)/3 = 2/3
    //   precisionAtK[1] = (1+0+0)/3 = 1/3;     precisionAtK[3] = (2/3+2/3+0)/3 = 4/9
    //   mapAt[2] = (1 + 1/2 + 0)/3 = 1/2;      mapAt[3] = (10/12 + 7/12 + 0)/3 = 17/36
    //   mapAll = (20/36 + 21/36 + 0)/3 = 41/108
    //   rPrecision = (2/3 + 1/2 + 0)/3 = 7/18
    //   medianRank of {1, 2, ∞} = 2;  meanRank = ∞ (N has no hit)
    const s = summarize([A, C, N], { ks: [1, 3], mapAt: [2, 3] });
    expect(s.queries).toBe(3);
    expect(Object.keys(s.recallAtK).map(Number)).toEqual([1, 3]);
    expect(s.recallAtK[1]).toBeCloseTo(1 / 3, 12);
    expect(s.recallAtK[3]).toBeCloseTo(2 / 3, 12);
    expect(s.precisionAtK[1]).toBeCloseTo(1 / 3, 12);
    expect(s.precisionAtK[3]).toBeCloseTo(4 / 9, 12);
    expect(Object.keys(s.mapAt).map(Number)).toEqual([2, 3]);
    expect(s.mapAt[2]).toBeCloseTo(1 / 2, 12);
    expect(s.mapAt[3]).toBeCloseTo(17 / 36, 12);
    expect(s.mapAll).toBeCloseTo(41 / 108, 12);
    expect(s.rPrecision).toBeCloseTo(7 / 18, 12);
    expect(s.medianRank).toBe(2);
    expect(s.meanRank).toBe(Infinity);
  });

  it('aggregates two queries with k past the end of the lists, from Uint8Array input', () => {
    // A = [1,0,1,0,0], R=3 and S = [1,1], R=5; ks = [2, 10], mapAt = [10].
    //   A: first 1; R@2=1, R@10=1; P@2 = 1/2, P@10 = 2/10; AP@10 = (1 + 2/3)/2 = 5/6;
    //      AP all = (5/3)/3 = 5/9; R-prec = 2/3.
    //   S: first 1; R@2=1, R@10=1; P@2 = 2/2 = 1, P@10 = 2/10; AP@10 = (1+1)/2 = 1;
    //      AP all = 2/5; R-prec = P@5 = 2/5 (ranks 3..5 missing → misses).
    // Means: recallAtK {2: 1, 10: 1}; precisionAtK[2] = (1/2 + 1)/2 = 3/4, precisionAtK[10] = 0.2;
    //   mapAt[10] = (5/6 + 1)/2 = 11/12; mapAll = (5/9 + 2/5)/2 = (25/45 + 18/45)/2 = 43/90;
    //   rPrecision = (2/3 + 2/5)/2 = (10/15 + 6/15)/2 = 8/15; medianRank of {1,1} = 1; meanRank = 1.
    const s = summarize(
      [
        { relevant: Uint8Array.of(1, 0, 1, 0, 0), totalRelevant: 3 },
        { relevant: Uint8Array.of(1, 1), totalRelevant: 5 },
      ],
      { ks: [10, 2, 10], mapAt: [10] },
    );
    expect(s.queries).toBe(2);
    expect(s.recallAtK).toEqual({ 2: 1, 10: 1 });
    expect(s.precisionAtK[2]).toBeCloseTo(3 / 4, 12);
    expect(s.precisionAtK[10]).toBeCloseTo(0.2, 12);
    expect(s.mapAt[10]).toBeCloseTo(11 / 12, 12);
    expect(s.mapAll).toBeCloseTo(43 / 90, 12);
    expect(s.rPrecision).toBeCloseTo(8 / 15, 12);
    expect(s.medianRank).toBe(1);
    expect(s.meanRank).toBe(1);
  });

  it('matches the single-query functions', () => {
    const qs = [A, C, N, S, q([0, 0, 1, 1, 0, 1, 0, 0, 1], 4)];
    const s = summarize(qs, { ks: [1, 4], mapAt: [3, 7] });
    for (const k of [1, 4]) {
      expect(s.recallAtK[k]).toBeCloseTo(mean(qs.map((x) => recallAtK(x, k))), 12);
      expect(s.precisionAtK[k]).toBeCloseTo(mean(qs.map((x) => precisionAtK(x, k))), 12);
    }
    for (const k of [3, 7]) expect(s.mapAt[k]).toBeCloseTo(mean(qs.map((x) => averagePrecision(x, k))), 12);
    expect(s.mapAll).toBeCloseTo(mean(qs.map((x) => averagePrecisionNormalized(x))), 12);
    expect(s.rPrecision).toBeCloseTo(mean(qs.map(rPrecision)), 12);
    expect(s.medianRank).toBe(medianRank(qs.map(firstRelevantRank)));
  });

  it('leaves mapAt empty by default and throws on a query left in its own ranking', () => {
    expect(summarize([A], { ks: [1] }).mapAt).toEqual({});
    expect(() => summarize([q([1, 1, 1], 2)], { ks: [1] })).toThrow(RangeError); // 3 hits > R=2
    expect(() => summarize([A], { ks: [0] })).toThrow(RangeError);
  });
});
