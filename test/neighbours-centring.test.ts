import { describe, expect, it } from 'vitest';
import { centredScores, centringOf, DEFAULT_RERANK_PARAMS, rerankDiffusion } from '../src/search/neighbours/rerankers.js';
import { NeighboursStage } from '../src/search/stages/neighbours.js';
import type { QueryContext } from '../src/search/signal.js';
import { lcg, randomUnit } from './fixtures.js';

const DIM = 12;
const N = 60;

/** Unit vectors sharing a large common part (as image features do), around three centres. */
function matrixOf(seed: number): Float32Array {
  const r = lcg(seed);
  const common = randomUnit(r, DIM);
  const centres = Array.from({ length: 3 }, () => randomUnit(r, DIM));
  const m = new Float32Array(N * DIM);
  for (let i = 0; i < N; i++) {
    const noise = randomUnit(r, DIM);
    const v = common.map((x, j) => 2 * x + centres[i % 3]![j]! + 0.5 * noise[j]!);
    const norm = Math.hypot(...v);
    v.forEach((x, j) => (m[i * DIM + j] = x / norm));
  }
  return m;
}

const dot = (a: Float32Array, ao: number, b: Float32Array, bo: number) => {
  let s = 0;
  for (let i = 0; i < DIM; i++) s += a[ao + i]! * b[bo + i]!;
  return s;
};

/** Each row's k nearest by `by`, with their cosines in `sims` (which may be another version of the vectors). */
function knnOf(by: Float32Array, sims: Float32Array, k: number) {
  const g = { k, rows: new Int32Array(N * k), sims: new Float32Array(N * k) };
  for (let r = 0; r < N; r++) {
    const order = Array.from({ length: N }, (_, j) => j)
      .filter((j) => j !== r)
      .sort((a, b) => dot(by, r * DIM, by, b * DIM) - dot(by, r * DIM, by, a * DIM))
      .slice(0, k);
    order.forEach((j, e) => ((g.rows[r * k + e] = j), (g.sims[r * k + e] = dot(sims, r * DIM, sims, j * DIM))));
  }
  return g;
}

describe('centred re-ranking', () => {
  const matrix = matrixOf(7);
  const mean = new Float32Array(DIM);
  for (let r = 0; r < N; r++) for (let i = 0; i < DIM; i++) mean[i]! += matrix[r * DIM + i]! / N;
  const centred = new Float32Array(N * DIM);
  for (let r = 0; r < N; r++) {
    const v = Array.from({ length: DIM }, (_, i) => matrix[r * DIM + i]! - mean[i]!);
    const norm = Math.hypot(...v);
    v.forEach((x, i) => (centred[r * DIM + i] = x / norm));
  }
  const query = matrix.subarray(0, DIM);
  const rows = Int32Array.from({ length: N - 1 }, (_, i) => i + 1);

  it('gives the cosines of the vectors less the mean, from the plain cosines', () => {
    const c = centringOf({ matrix, dim: DIM });
    const scores = Float32Array.from(rows, (r) => dot(query, 0, matrix, r * DIM));
    const got = centredScores(c, query, { rows, scores });
    rows.forEach((r, i) => expect(got[i]).toBeCloseTo(dot(centred, 0, centred, r * DIM), 5));
    // The common part made every plain cosine high; centred, the three groups stand apart.
    expect(Math.min(...scores)).toBeGreaterThan(0.5);
    expect(Math.min(...got)).toBeLessThan(0);
  });

  it('diffuses over the centred graph exactly as over centred vectors', () => {
    const k = 10;
    const knn = (m: Float32Array) => knnOf(matrix, m, k);
    const p = { ...DEFAULT_RERANK_PARAMS, graphK: k, seeds: 5 };
    const plainScores = Float32Array.from(rows, (r) => dot(query, 0, matrix, r * DIM));
    const c = centringOf({ matrix, dim: DIM });
    const viaCentring = rerankDiffusion({ rows, scores: centredScores(c, query, { rows, scores: plainScores }) }, knn(matrix), p, c);
    const direct = rerankDiffusion({ rows, scores: Float32Array.from(rows, (r) => dot(centred, 0, centred, r * DIM)) }, knn(centred), p);
    viaCentring.forEach((s, i) => expect(s).toBeCloseTo(direct[i]!, 4));
  });

  it('walks again from its own best hits only in a ranking long enough', () => {
    const k = 10;
    const g = knnOf(matrix, matrix, k);
    const hits = { rows, scores: Float32Array.from(rows, (r) => dot(query, 0, matrix, r * DIM)) };
    const p = { ...DEFAULT_RERANK_PARAMS, graphK: k, seeds: 3, reseeds: 15 };
    const once = rerankDiffusion(hits, g, { ...p, rounds: 1 });
    expect(Array.from(rerankDiffusion(hits, g, { ...p, roundsFrom: N }))).toEqual(Array.from(once));
    const again = rerankDiffusion(hits, g, { ...p, roundsFrom: N - 1 });
    expect(Array.from(again)).not.toEqual(Array.from(once));
  });

  it('orders the first places of a long ranking by its first walks, the rest by the last walk', () => {
    const k = 10;
    const g = knnOf(matrix, matrix, k);
    const hits = { rows, scores: Float32Array.from(rows, (r) => dot(query, 0, matrix, r * DIM)) };
    const p = { ...DEFAULT_RERANK_PARAMS, graphK: k, seeds: 3, reseeds: 15, roundsFrom: N - 1, rounds: 4, head: 5, headWalks: 1 };
    const best = (s: Float32Array, m: number) =>
      Array.from(s, (_, i) => i)
        .sort((a, b) => s[b]! - s[a]!)
        .slice(0, m);
    const long = rerankDiffusion(hits, g, p);
    // One walk averaged is the first walk, which alone is a short ranking's score.
    const head = best(long, 5);
    expect(head).toEqual(best(rerankDiffusion(hits, g, { ...p, rounds: 1 }), 5));
    const rest = rerankDiffusion(hits, g, { ...p, head: 0 });
    long.forEach((s, i) => (head.includes(i) ? expect(s).toBeGreaterThan(Math.max(...rest)) : expect(s).toBe(rest[i])));
  });
});

describe('re-ranking depth', () => {
  const stage = new NeighboursStage({ defaults: () => ({ image: 'diffusion', text: 'none' }), graph: async () => null });
  const ctx = (query: object, filtered = true) => ({ query: { images: [{ id: 'x' }], ...query }, filtered, encoded: {} }) as unknown as QueryContext;

  it('re-ranks its default depth, or the whole page asked for when that reaches further', () => {
    expect(stage.depth(ctx({}))).toBe(DEFAULT_RERANK_PARAMS.depth);
    expect(stage.depth(ctx({ k: 1000 }))).toBe(1000);
    expect(stage.depth(ctx({ k: 10, offset: 995 }))).toBe(1005);
    expect(stage.depth(ctx({ stages: { neighbours: { depth: 50 } } }))).toBe(50);
    expect(stage.depth(ctx({ stages: { neighbours: { method: 'qe' } } }, false))).toBe(DEFAULT_RERANK_PARAMS.depth);
  });

  it('asks only for the hits it widens with their graph neighbours when the query is unfiltered', () => {
    expect(stage.depth(ctx({}, false))).toBe(DEFAULT_RERANK_PARAMS.expandFrom);
    expect(stage.depth(ctx({ k: 1000 }, false))).toBe(1000);
    expect(stage.depth(ctx({ stages: { neighbours: { expandFrom: 0 } } }, false))).toBe(DEFAULT_RERANK_PARAMS.depth);
  });
});
