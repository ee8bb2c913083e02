/**
 * Re-ranking a query's first hits with the collection's own structure — no labels, no training:
 * average query expansion (αQE), database-side augmentation (DBA) and diffusion over the
 * k-nearest-neighbour graph (Iscen et al., CVPR 2017, on the truncated graph of the hits). Each
 * takes the first ranking (rows of the matrix, best first, with their cosines) and returns new
 * scores for the same rows. docs/reranking.md says what each costs and when it hurts.
 */
import { topIndices } from '../fusion.js';
import type { KnnGraph } from './knn-graph.js';

export const RERANK_METHODS = ['none', 'qe', 'dba', 'diffusion'] as const;
export type RerankMethod = (typeof RERANK_METHODS)[number];

/** Whether a method reads the neighbour graph (αQE and none do not). */
export const readsGraph = (method: RerankMethod | undefined): boolean => method === 'dba' || method === 'diffusion';

export interface RerankParams {
  /**
   * First hits re-ranked (the rest keep their order after them); a query asking for a longer
   * page has the whole page re-ranked. 200 keeps the first ten as good as 1,000 does (P@10 on
   * the tuning queries) at a fraction of the cost: the store answers 200 hits, not 1,000.
   */
  depth: number;
  /**
   * An unfiltered image query with a graph asks the store for only its first `expandFrom` hits;
   * their graph neighbours join them, and the `depth` best of those by cosine are re-ranked.
   * The store then answers a short top-k, as without the stage (0: the store's top `depth`).
   */
  expandFrom: number;
  /** αQE: hits averaged into the query, and the power their cosines are weighted by. */
  qeTop: number;
  qeAlpha: number;
  /** DBA: neighbours averaged into each item, weighted by cosine^dbaAlpha. */
  dbaTop: number;
  dbaAlpha: number;
  /** Diffusion: the query's hits that seed it, graph neighbours per item, cosine power, and the walk's α. */
  seeds: number;
  graphK: number;
  gamma: number;
  alpha: number;
  /**
   * Diffusion: walks in all. Each after the first starts again from its predecessor's best
   * `reseeds` hits, weighted by their scores: the walk's own ranking, better than the cosine's,
   * then chooses where it starts (more so for the later, less similar relevant hits). Only
   * rankings of at least `roundsFrom` hits take more than one: in a shorter one the later walks
   * drift and the first ten suffer (docs/reranking.md).
   */
  rounds: number;
  reseeds: number;
  roundsFrom: number;
  /** The first walk's share of the diffusion score after further rounds: it keeps the head, which the later walks blur. */
  firstShare: number;
  /**
   * After further rounds, the first `head` places go by the mean of the first `headWalks`
   * walks' scores (with the cosine share): averaged walks order the first hits better than the
   * last walk does, which orders the rest of a long ranking better.
   */
  head: number;
  headWalks: number;
  /** Conjugate-gradient steps (the walk's linear system). */
  iterations: number;
  /** Diffusion: share of the cosine in the final score (the rest is the diffusion score, scaled to its maximum). */
  cosineWeight: number;
  /**
   * Hits at least this similar to the query stay first, in cosine order: an edited copy's
   * original (near-duplicate search) must not give way to a better-connected neighbour.
   */
  keepAbove: number;
  /**
   * Diffusion: compare vectors less the collection's mean vector (their cosines then follow
   * from the plain ones, see Centring). Image features share a large common part (they are
   * all non-negative); without it, what sets images apart weighs more.
   */
  centre: boolean;
}

/** Chosen on 1,000 CIFAR-10 tuning queries that the reported figures leave out (docs/reranking.md). */
export const DEFAULT_RERANK_PARAMS: RerankParams = {
  depth: 200,
  expandFrom: 20,
  qeTop: 10,
  qeAlpha: 3,
  dbaTop: 10,
  dbaAlpha: 3,
  seeds: 20,
  graphK: 50,
  gamma: 3,
  alpha: 0.9,
  rounds: 10,
  reseeds: 100,
  roundsFrom: 1000,
  firstShare: 0.2,
  head: 10,
  headWalks: 6,
  iterations: 20,
  cosineWeight: 0.2,
  keepAbove: 0.95,
  centre: true,
};

export interface FirstHits {
  /** Matrix rows, best first. */
  rows: Int32Array;
  /** Their cosines to the query. */
  scores: Float32Array;
}

export interface Vectors {
  matrix: Float32Array;
  dim: number;
}

/** The dot product of a's vector at offset ao and b's at bo. */
export function dotRows(a: Float32Array, ao: number, b: Float32Array, bo: number, dim: number): number {
  let s = 0;
  for (let i = 0; i < dim; i++) s += a[ao + i]! * b[bo + i]!;
  return s;
}

function normaliseInPlace(v: Float32Array): void {
  let s = 0;
  for (let i = 0; i < v.length; i++) s += v[i]! * v[i]!;
  const inv = s > 0 ? 1 / Math.sqrt(s) : 0;
  for (let i = 0; i < v.length; i++) v[i]! *= inv;
}

/** The query moved to the α-weighted mean of itself and its first `top` hits. */
export function expandQuery(query: Float32Array, hits: FirstHits, v: Vectors, top: number, alpha: number): Float32Array {
  const q = Float32Array.from(query);
  normaliseInPlace(q);
  const n = Math.min(top, hits.rows.length);
  for (let j = 0; j < n; j++) {
    const w = Math.max(0, hits.scores[j]!) ** alpha;
    const o = hits.rows[j]! * v.dim;
    for (let i = 0; i < v.dim; i++) q[i]! += w * v.matrix[o + i]!;
  }
  normaliseInPlace(q);
  return q;
}

/** αQE: every hit scored again against the expanded query. */
export function rerankQe(query: Float32Array, hits: FirstHits, v: Vectors, p: RerankParams): Float32Array {
  const q = expandQuery(query, hits, v, p.qeTop, p.qeAlpha);
  return Float32Array.from(hits.rows, (r) => dotRows(q, 0, v.matrix, r * v.dim, v.dim));
}

/** One item's vector averaged with its graph neighbours (DBA), normalised. */
export function augmented(row: number, v: Vectors, graph: GraphRows, top: number, alpha: number, out: Float32Array): Float32Array {
  out.set(v.matrix.subarray(row * v.dim, (row + 1) * v.dim));
  const n = Math.min(top, graph.k);
  for (let j = 0; j < n; j++) {
    const r = graph.rows[row * graph.k + j]!;
    if (r < 0) break;
    const w = Math.max(0, graph.sims[row * graph.k + j]!) ** alpha;
    const o = r * v.dim;
    for (let i = 0; i < v.dim; i++) out[i]! += w * v.matrix[o + i]!;
  }
  normaliseInPlace(out);
  return out;
}

/**
 * The collection's mean vector μ, and per row its dot product with μ and the length of row − μ:
 * the cosine of two centred vectors then follows from their plain dot product,
 * (a·b − a·μ − b·μ + |μ|²) / (|a − μ| |b − μ|), so neither the graph nor the store change.
 */
export interface Centring {
  mean: Float32Array;
  dots: Float32Array;
  norms: Float32Array;
  meanSq: number;
}

const centrings = new WeakMap<Float32Array, Centring>();

/** A vector's dot product with μ and its centred length. */
export function centredParts(c: Centring, vector: Float32Array, offset = 0): { dot: number; norm: number } {
  let dot = 0;
  let sq = 0;
  for (let i = 0; i < c.mean.length; i++) {
    const x = vector[offset + i]!;
    dot += x * c.mean[i]!;
    sq += x * x;
  }
  return { dot, norm: Math.sqrt(Math.max(0, sq - 2 * dot + c.meanSq)) };
}

/** The centring of a matrix, computed once per matrix (a store's matrix is replaced, never changed, when the collection changes). */
export function centringOf(v: Vectors): Centring {
  const known = centrings.get(v.matrix);
  if (known) return known;
  const n = v.dim ? v.matrix.length / v.dim : 0;
  const sum = new Float64Array(v.dim);
  for (let r = 0; r < n; r++) for (let i = 0; i < v.dim; i++) sum[i]! += v.matrix[r * v.dim + i]!;
  const mean = Float32Array.from(sum, (x) => (n ? x / n : 0));
  const c: Centring = { mean, dots: new Float32Array(n), norms: new Float32Array(n), meanSq: mean.reduce((a, x) => a + x * x, 0) };
  for (let r = 0; r < n; r++) {
    const { dot, norm } = centredParts(c, v.matrix, r * v.dim);
    c.dots[r] = dot;
    c.norms[r] = norm;
  }
  centrings.set(v.matrix, c);
  return c;
}

function centredCosine(c: Centring, dot: number, aDot: number, aNorm: number, bDot: number, bNorm: number): number {
  const den = aNorm * bNorm;
  return den > 0 ? (dot - aDot - bDot + c.meanSq) / den : 0;
}

/** The hits' cosines to the query, centred. */
export function centredScores(c: Centring, query: Float32Array, hits: FirstHits): Float32Array {
  const q = centredParts(c, query);
  return Float32Array.from(hits.rows, (r, i) => centredCosine(c, hits.scores[i]!, q.dot, q.norm, c.dots[r]!, c.norms[r]!));
}

/** The graph as rows of the matrix searched (KnnGraph's, or mapped onto another snapshot's). */
export type GraphRows = Pick<KnnGraph, 'k' | 'rows' | 'sims'>;

/** DBA, with αQE on the query side: each hit's augmented vector against the expanded query. */
export function rerankDba(query: Float32Array, hits: FirstHits, v: Vectors, graph: GraphRows, p: RerankParams): Float32Array {
  const q = expandQuery(query, hits, v, p.qeTop, p.qeAlpha);
  const buf = new Float32Array(v.dim);
  return Float32Array.from(hits.rows, (r) => dotRows(q, 0, augmented(r, v, graph, p.dbaTop, p.dbaAlpha, buf), 0, v.dim));
}

/** The walk's operator on the hits: S = D^-½ W D^-½ over mutual graph neighbours, in CSR form. */
interface HitGraph {
  n: number;
  start: Int32Array;
  to: Int32Array;
  weight: Float64Array;
}

function hitGraph(hits: FirstHits, graph: GraphRows, p: RerankParams, centring?: Centring): HitGraph {
  const n = hits.rows.length;
  const local = new Map<number, number>();
  hits.rows.forEach((r, i) => local.set(r, i));
  const kk = Math.min(p.graphK, graph.k);
  // Each hit's first kk neighbours among the hits (local indices), then the mutual ones kept (CSR).
  const nb = new Int32Array(n * kk).fill(-1);
  const wt = new Float64Array(n * kk);
  for (let i = 0; i < n; i++) {
    const r = hits.rows[i]!;
    for (let j = 0; j < kk; j++) {
      const g = graph.rows[r * graph.k + j]!;
      if (g < 0) break;
      const l = local.get(g);
      if (l === undefined) continue;
      nb[i * kk + j] = l;
      const sim = graph.sims[r * graph.k + j]!;
      const c = centring;
      wt[i * kk + j] = Math.max(0, c ? centredCosine(c, sim, c.dots[r]!, c.norms[r]!, c.dots[g]!, c.norms[g]!) : sim) ** p.gamma;
    }
  }
  const start = new Int32Array(n + 1);
  const to: number[] = [];
  const w: number[] = [];
  const deg = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < kk; j++) {
      const l = nb[i * kk + j]!;
      if (l < 0) continue;
      let mutual = false;
      for (let e = 0; e < kk && !mutual; e++) mutual = nb[l * kk + e] === i;
      if (!mutual) continue;
      to.push(l);
      w.push(wt[i * kk + j]!);
      deg[i]! += wt[i * kk + j]!;
    }
    start[i + 1] = to.length;
  }
  const inv = Float64Array.from(deg, (d) => (d > 0 ? 1 / Math.sqrt(d) : 0));
  const edgeTo = Int32Array.from(to);
  const weight = Float64Array.from(w);
  for (let i = 0; i < n; i++) for (let e = start[i]!; e < start[i + 1]!; e++) weight[e] = weight[e]! * inv[i]! * inv[edgeTo[e]!]!;
  return { n, start, to: edgeTo, weight };
}

/** f solving (I − αS) f = y by conjugate gradient (I − αS is symmetric positive-definite), from f = y; scaled to its maximum, negatives 0. */
function walk(g: HitGraph, y: Float64Array, p: RerankParams): Float64Array {
  const { n, start, to, weight } = g;
  const apply = (x: Float64Array, into: Float64Array) => {
    for (let i = 0; i < n; i++) {
      let s = 0;
      for (let e = start[i]!; e < start[i + 1]!; e++) s += weight[e]! * x[to[e]!]!;
      into[i] = x[i]! - p.alpha * s;
    }
  };
  const f = Float64Array.from(y);
  const ap = new Float64Array(n);
  apply(f, ap);
  const res = Float64Array.from(y, (v, i) => v - ap[i]!);
  const dir = Float64Array.from(res);
  let rr = res.reduce((s, v) => s + v * v, 0);
  for (let it = 0; it < p.iterations && rr > 1e-20; it++) {
    apply(dir, ap);
    let pap = 0;
    for (let i = 0; i < n; i++) pap += dir[i]! * ap[i]!;
    if (pap <= 0) break;
    const a = rr / pap;
    for (let i = 0; i < n; i++) {
      f[i]! += a * dir[i]!;
      res[i]! -= a * ap[i]!;
    }
    const next = res.reduce((s, v) => s + v * v, 0);
    const b = next / rr;
    rr = next;
    for (let i = 0; i < n; i++) dir[i] = res[i]! + b * dir[i]!;
  }
  let max = 0;
  for (const v of f) max = Math.max(max, v);
  return f.map((v) => (max > 0 ? Math.max(0, v) / max : 0));
}

/**
 * Diffusion on the graph of the hits: edges between mutual neighbours (each among the other's
 * first `graphK`), weighted cosine^γ and symmetrically normalised (S = D^-½ W D^-½); the query's
 * first `seeds` hits, weighted cosine^γ, are the start y; the ranking is f solving
 * (I − αS) f = y. In a long ranking, later rounds start from the previous walk's best `reseeds`
 * hits, weighted by its scores; the score mixes the first walk and the last, except in the
 * first `head` places, which the mean of the first `headWalks` walks orders. Hits the walk never
 * reaches score 0.
 */
export function rerankDiffusion(hits: FirstHits, graph: GraphRows, p: RerankParams, centring?: Centring): Float32Array {
  const g = hitGraph(hits, graph, p, centring);
  const y = new Float64Array(g.n);
  for (let i = 0; i < Math.min(p.seeds, g.n); i++) y[i] = Math.max(0, hits.scores[i]!) ** p.gamma;
  const walks = [walk(g, y, p)];
  const rounds = g.n >= p.roundsFrom ? p.rounds : 1;
  for (let round = 1; round < rounds; round++) {
    const f = walks[round - 1]!;
    const best = Array.from(f, (_, i) => i)
      .sort((a, b) => f[b]! - f[a]!)
      .slice(0, p.reseeds);
    y.fill(0);
    for (const i of best) y[i] = f[i]!;
    walks.push(walk(g, y, p));
  }
  const mix = p.cosineWeight;
  const first = walks[0]!;
  const last = walks.at(-1)!;
  if (rounds === 1) return Float32Array.from(first, (v, i) => (1 - mix) * v + mix * hits.scores[i]!);
  const scores = Float32Array.from(last, (v, i) => (1 - mix) * ((1 - p.firstShare) * v + p.firstShare * first[i]!) + mix * hits.scores[i]!);
  const lead = walks.slice(0, p.headWalks);
  const headScore = Float32Array.from(first, (_, i) => (1 - mix) * (lead.reduce((s, w) => s + w[i]!, 0) / lead.length) + mix * hits.scores[i]!);
  // Both scores lie in [−1, 1]: lifted by 2, the head's places come first, in its order.
  for (const i of topIndices(headScore, p.head)) scores[i] = 2 + headScore[i]!;
  return scores;
}

/**
 * The new order of the hits (indices into hits.rows): near-duplicates of the query first (cosine
 * ≥ keepAbove), then by the method's score, ties by the first ranking.
 */
export function reorder(hits: FirstHits, scores: Float32Array, keepAbove: number): number[] {
  const order = Array.from(hits.rows, (_, i) => i);
  const kept = (i: number) => hits.scores[i]! >= keepAbove;
  return order.sort((a, b) => {
    const ka = kept(a);
    const kb = kept(b);
    if (ka !== kb) return ka ? -1 : 1;
    if (ka) return a - b;
    return scores[b]! - scores[a]! || a - b;
  });
}

/**
 * The method's scores for the hits (none: their cosines). `cosines`: whether the hits' scores are
 * their cosines to `query` (an image query), which diffusion with `centre` then centres too;
 * otherwise (pseudo-relevance feedback) they are seed weights and only the graph is centred.
 */
export function rerankScores(
  method: RerankMethod,
  query: Float32Array,
  hits: FirstHits,
  v: Vectors,
  graph: GraphRows | null,
  p: RerankParams,
  cosines = true,
): Float32Array {
  if (method === 'qe') return rerankQe(query, hits, v, p);
  if (method === 'dba' && graph) return rerankDba(query, hits, v, graph, p);
  if (method === 'diffusion' && graph) {
    // Words' first hits are often wrong (pseudo-relevance feedback): walking again from the walk's own best drifts further (docs/reranking.md).
    const walks = cosines ? p : { ...p, rounds: 1 };
    if (!p.centre) return rerankDiffusion(hits, graph, walks);
    const c = centringOf(v);
    return rerankDiffusion(cosines ? { rows: hits.rows, scores: centredScores(c, query, hits) } : hits, graph, walks, c);
  }
  return hits.scores;
}
