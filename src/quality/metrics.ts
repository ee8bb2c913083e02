/**
 * Retrieval metrics for the evaluation harness. Pure functions, no dependencies.
 *
 * Every metric takes a query as a ranked list of relevance flags (the retrieved
 * list, best first, the query itself already removed) plus the number of items
 * relevant to that query in the whole gallery (R). Ranks are 1-based throughout.
 *
 * Conventions shared by all functions:
 * - `k` must be an integer >= 1 (RangeError otherwise). When the list holds
 *   fewer than `k` results, the missing positions count as misses.
 * - `totalRelevant` must be an integer >= 0. A query with R = 0 scores 0 on every
 *   metric that divides by R; filter such queries out beforehand if that is not wanted.
 * - Where a function scans far enough to see more relevant flags than R, it throws
 *   a RangeError: that is a harness bug (typically the query left in its own ranking).
 */

/** One query: relevance of each retrieved item (best first) and R, the gallery-wide relevant count. */
export interface RankedQuery {
  /** Relevance flags of the retrieved items, best first; any truthy / non-zero value is relevant. */
  relevant: ArrayLike<boolean | 0 | 1> | Uint8Array;
  /** Number of items relevant to this query in the whole gallery (excluding the query itself). */
  totalRelevant: number;
}

/** Aggregates returned by {@link summarize}; every figure is a mean over queries unless stated. */
export interface MetricsSummary {
  /** Number of queries summarised. */
  queries: number;
  /** Any-hit Recall@K (Flickr protocol), as a fraction 0..1, keyed by K. */
  recallAtK: Record<number, number>;
  /** Precision@K, keyed by K. */
  precisionAtK: Record<number, number>;
  /** mAP@K with the hashing-literature normalisation ({@link averagePrecision}), keyed by K. */
  mapAt: Record<number, number>;
  /** mAP over the whole retrieved list, normalised by R ({@link averagePrecisionNormalized} with no k). */
  mapAll: number;
  /** Mean R-precision. */
  rPrecision: number;
  /** Median of the first-relevant ranks (Infinity for queries with no relevant item retrieved). */
  medianRank: number;
  /** Mean of the first-relevant ranks; Infinity as soon as one query retrieves no relevant item. */
  meanRank: number;
}

function checkK(k: number, name = 'k'): void {
  if (!Number.isInteger(k) || k < 1) throw new RangeError(`${name} must be an integer >= 1, got ${k}`);
}

function checkTotal(q: RankedQuery): number {
  const r = q.totalRelevant;
  if (!Number.isInteger(r) || r < 0) throw new RangeError(`totalRelevant must be an integer >= 0, got ${r}`);
  return r;
}

function tooManyHits(hits: number, r: number): RangeError {
  return new RangeError(`ranking holds ${hits} relevant items but totalRelevant is ${r} (is the query itself still in its own ranking?)`);
}

/** Number of relevant items among the first `k` retrieved (k clamped to the list length). */
function hitsInTop(rel: RankedQuery['relevant'], k: number): number {
  const n = Math.min(k, rel.length);
  let hits = 0;
  for (let i = 0; i < n; i++) if (rel[i]) hits++;
  return hits;
}

/** Σ over relevant ranks i ≤ k of P@i, and the number of hits, over the first `k` retrieved. */
function apSum(rel: RankedQuery['relevant'], k: number): { sum: number; hits: number } {
  const n = Math.min(k, rel.length);
  let hits = 0;
  let sum = 0;
  for (let i = 0; i < n; i++) {
    if (rel[i]) {
      hits++;
      sum += hits / (i + 1);
    }
  }
  return { sum, hits };
}

/** Precision@K = (relevant items in the top k) / k. Missing positions (list shorter than k) are misses. */
export function precisionAtK(q: RankedQuery, k: number): number {
  checkK(k);
  return hitsInTop(q.relevant, k) / k;
}

/**
 * Recall@K as in the Flickr8k/30k caption/image retrieval protocol:
 * 1 if at least one relevant item is in the top k, else 0.
 */
export function recallAtK(q: RankedQuery, k: number): number {
  checkK(k);
  const n = Math.min(k, q.relevant.length);
  for (let i = 0; i < n; i++) if (q.relevant[i]) return 1;
  return 0;
}

/** Fractional recall@K = (relevant items in the top k) / totalRelevant; 0 when totalRelevant = 0. */
export function fractionalRecallAtK(q: RankedQuery, k: number): number {
  checkK(k);
  const r = checkTotal(q);
  const hits = hitsInTop(q.relevant, k);
  if (hits > r) throw tooManyHits(hits, r);
  return r === 0 ? 0 : hits / r;
}

/**
 * Average precision over the top k (the whole retrieved list when k is undefined),
 * deep-hashing normalisation (the "mAP@1000" of the CIFAR-10 hashing literature):
 *
 *   AP@k = (Σ_{i ≤ k, rel_i} P@i) / (number of relevant items in the top k)
 *
 * 0 when no relevant item is in the top k. Over a full ranking (all R relevant
 * items retrieved) with k undefined this equals the usual AP = (Σ_{rel_i} P@i) / R.
 */
export function averagePrecision(q: RankedQuery, k?: number): number {
  if (k !== undefined) checkK(k);
  const { sum, hits } = apSum(q.relevant, k ?? q.relevant.length);
  return hits === 0 ? 0 : sum / hits;
}

/**
 * Average precision over the top k (the whole retrieved list when k is undefined),
 * normalised by the number of relevant items that could have been retrieved:
 *
 *   AP@k = (Σ_{i ≤ k, rel_i} P@i) / min(totalRelevant, k)      (k undefined: / totalRelevant)
 *
 * 0 when totalRelevant = 0. With k undefined this is the standard (TREC) AP, which
 * on a full ranking equals {@link averagePrecision} with k undefined.
 */
export function averagePrecisionNormalized(q: RankedQuery, k?: number): number {
  if (k !== undefined) checkK(k);
  const r = checkTotal(q);
  const { sum, hits } = apSum(q.relevant, k ?? q.relevant.length);
  if (hits > r) throw tooManyHits(hits, r);
  const denom = k === undefined ? r : Math.min(r, k);
  return denom === 0 ? 0 : sum / denom;
}

/** R-precision = P@R with R = totalRelevant (missing positions are misses); 0 when R = 0. */
export function rPrecision(q: RankedQuery): number {
  const r = checkTotal(q);
  return r === 0 ? 0 : hitsInTop(q.relevant, r) / r;
}

/** 1-based rank of the first relevant retrieved item, or Infinity if none is retrieved. */
export function firstRelevantRank(q: RankedQuery): number {
  const rel = q.relevant;
  const n = rel.length;
  for (let i = 0; i < n; i++) if (rel[i]) return i + 1;
  return Infinity;
}

/**
 * Median of 1-based ranks: the middle value for an odd count, the mean of the two
 * middle values for an even count. Infinity (no hit) sorts after every finite rank,
 * so a median touching it is Infinity. NaN for an empty list. The input is not modified.
 */
export function medianRank(ranks: ArrayLike<number>): number {
  const n = ranks.length;
  if (n === 0) return NaN;
  const sorted = Float64Array.from(ranks);
  for (const v of sorted) if (Number.isNaN(v)) throw new RangeError('medianRank: rank is NaN');
  sorted.sort();
  const mid = n >> 1;
  return n % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** Arithmetic mean; NaN for an empty list. */
export function mean(values: ArrayLike<number>): number {
  const n = values.length;
  if (n === 0) return NaN;
  let s = 0;
  for (let i = 0; i < n; i++) s += values[i]!;
  return s / n;
}

/**
 * Interpolated precision-recall curve averaged over queries (the standard 11-point
 * curve by default). Recall levels are r_j = j / (points - 1), j = 0..points-1.
 * For each query, the interpolated precision at r_j is
 *
 *   p_interp(r_j) = max { P@i : recall@i ≥ r_j },   recall@i = (hits in top i) / totalRelevant
 *
 * or 0 when no rank reaches recall r_j (so a query with R = 0 or no hit is all zeros).
 * The comparison recall ≥ r_j is done exactly in integers. The returned precision is the
 * mean over queries at each level (NaN when `queries` is empty).
 */
export function precisionRecallCurve(queries: readonly RankedQuery[], points = 11): { recall: number[]; precision: number[] } {
  if (!Number.isInteger(points) || points < 2) throw new RangeError(`points must be an integer >= 2, got ${points}`);
  const steps = points - 1;
  const recall = Array.from({ length: points }, (_, j) => j / steps);
  const total = new Float64Array(points);
  // best[j]: highest precision among hits whose recall lies in [r_j, r_{j+1}).
  const best = new Float64Array(points);
  for (const q of queries) {
    const r = checkTotal(q);
    best.fill(0);
    const rel = q.relevant;
    const n = rel.length;
    let hits = 0;
    for (let i = 0; i < n; i++) {
      if (!rel[i]) continue;
      hits++;
      if (hits > r) throw tooManyHits(hits, r);
      // Highest level reached: largest j with hits / r >= j / steps.
      const j = Math.floor((hits * steps) / r);
      const p = hits / (i + 1);
      if (p > best[j]!) best[j] = p;
    }
    // Interpolate: max over all hits at or above each level.
    let run = 0;
    for (let j = steps; j >= 0; j--) {
      if (best[j]! > run) run = best[j]!;
      total[j]! += run;
    }
  }
  const precision = Array.from(total, (s) => s / queries.length);
  return { recall, precision };
}

/**
 * All metrics of the standard protocols in one pass per query (loops only, no per-item
 * allocation; `relevant` may be a Uint8Array). Every figure is the mean over all queries:
 * - `recallAtK[k]`: any-hit {@link recallAtK}, a fraction 0..1;
 * - `precisionAtK[k]`: {@link precisionAtK};
 * - `mapAt[k]`: {@link averagePrecision}(q, k), hashing-literature normalisation (/ hits in top k);
 * - `mapAll`: {@link averagePrecisionNormalized}(q), i.e. AP / R over the whole list (equal to
 *   the hashing mAP@all on full rankings, and not inflated on truncated ones);
 * - `rPrecision`: {@link rPrecision};
 * - `medianRank` / `meanRank`: median / mean of {@link firstRelevantRank}.
 */
export function summarize(queries: readonly RankedQuery[], opts: { ks: readonly number[]; mapAt?: readonly number[] }): MetricsSummary {
  const ks = [...new Set(opts.ks)].sort((a, b) => a - b);
  const mapKs = [...new Set(opts.mapAt ?? [])].sort((a, b) => a - b);
  for (const k of ks) checkK(k, 'ks entry');
  for (const k of mapKs) checkK(k, 'mapAt entry');
  // Ranks at which to record the running hit count and AP sum.
  const stops = [...new Set([...ks, ...mapKs])].sort((a, b) => a - b);
  const nStops = stops.length;
  const stopHits = new Float64Array(nStops);
  const stopAp = new Float64Array(nStops);
  const stopIndex = new Map(stops.map((k, i) => [k, i]));

  const sumRecall = new Float64Array(ks.length);
  const sumPrecision = new Float64Array(ks.length);
  const sumMap = new Float64Array(mapKs.length);
  let sumMapAll = 0;
  let sumRPrec = 0;
  const firstRanks = new Float64Array(queries.length);

  for (let qi = 0; qi < queries.length; qi++) {
    const q = queries[qi]!;
    const r = checkTotal(q);
    const rel = q.relevant;
    const n = rel.length;
    let hits = 0;
    let ap = 0;
    let first = Infinity;
    let hitsAtR = -1;
    let c = 0;
    let nextStop = nStops > 0 ? stops[0]! : -1;
    for (let i = 0; i < n; i++) {
      if (rel[i]) {
        hits++;
        ap += hits / (i + 1);
        if (first === Infinity) first = i + 1;
      }
      const rank = i + 1;
      if (rank === r) hitsAtR = hits;
      if (rank === nextStop) {
        stopHits[c] = hits;
        stopAp[c] = ap;
        c++;
        nextStop = c < nStops ? stops[c]! : -1;
      }
    }
    // Stops beyond the end of the list see the final counts (missing positions are misses).
    for (; c < nStops; c++) {
      stopHits[c] = hits;
      stopAp[c] = ap;
    }
    if (hits > r) throw tooManyHits(hits, r);
    if (hitsAtR < 0) hitsAtR = hits; // R = 0 or R beyond the list

    for (let j = 0; j < ks.length; j++) {
      const k = ks[j]!;
      sumRecall[j]! += first <= k ? 1 : 0;
      sumPrecision[j]! += stopHits[stopIndex.get(k)!]! / k;
    }
    for (let j = 0; j < mapKs.length; j++) {
      const s = stopIndex.get(mapKs[j]!)!;
      const h = stopHits[s]!;
      sumMap[j]! += h === 0 ? 0 : stopAp[s]! / h;
    }
    sumMapAll += r === 0 ? 0 : ap / r;
    sumRPrec += r === 0 ? 0 : hitsAtR / r;
    firstRanks[qi] = first;
  }

  const nq = queries.length;
  const recallAtK: Record<number, number> = {};
  const precisionAt: Record<number, number> = {};
  const mapAt: Record<number, number> = {};
  ks.forEach((k, j) => {
    recallAtK[k] = sumRecall[j]! / nq;
    precisionAt[k] = sumPrecision[j]! / nq;
  });
  mapKs.forEach((k, j) => {
    mapAt[k] = sumMap[j]! / nq;
  });
  return {
    queries: nq,
    recallAtK,
    precisionAtK: precisionAt,
    mapAt,
    mapAll: sumMapAll / nq,
    rPrecision: sumRPrec / nq,
    medianRank: medianRank(firstRanks),
    meanRank: mean(firstRanks),
  };
}
