import { VisorError } from '../errors.js';

/**
 * Query vectors built from several terms, and moved by relevance feedback. Pure functions over
 * embedding vectors from any one space (image features, a joint text–image space, a composed
 * query space): the caller embeds the terms, these only combine them. Every result is
 * L2-normalised, so it can be used directly as a cosine query.
 */

/** One term of a query: an embedded image or text, with how much it counts. */
export interface QueryTerm {
  vector: ArrayLike<number>;
  /** How much the term counts (finite, > 0; default 1). */
  weight?: number;
  /** A term to move away from ("not like this", rclip's `-` prefix, Marqo's negative weights). */
  negative?: boolean;
}

export interface RocchioWeights {
  /** Weight of the current query (default 1). */
  alpha?: number;
  /** Weight of the mean of the liked items (default 0.75). */
  beta?: number;
  /** Weight of the mean of the disliked items (default 0.15). */
  gamma?: number;
}

/** SMART's classic Rocchio weights: the query, a strong pull to liked items, a light push from disliked ones. */
export const ROCCHIO_DEFAULTS: Required<RocchioWeights> = { alpha: 1, beta: 0.75, gamma: 0.15 };

/** A copy scaled to unit length; a zero vector is refused (it has no direction to search in). */
export function normalize(v: ArrayLike<number>, what = 'query vector'): Float32Array {
  let n = 0;
  for (let i = 0; i < v.length; i++) n += v[i]! * v[i]!;
  if (!(n > 0) || !Number.isFinite(n)) {
    throw new VisorError('QUERY_INVALID', `${what} is ${Number.isFinite(n) ? 'zero' : 'not finite'}: it has no direction to search in`);
  }
  const inv = 1 / Math.sqrt(n);
  return Float32Array.from(v, (x) => x * inv);
}

function checkDims(vectors: ArrayLike<ArrayLike<number>>, dim: number, what: string): void {
  for (let i = 0; i < vectors.length; i++) {
    if (vectors[i]!.length !== dim) {
      throw new VisorError('QUERY_INVALID', `${what} ${i + 1} has ${vectors[i]!.length} dimensions, expected ${dim}`);
    }
  }
}

function checkWeight(w: number, name: string): number {
  if (!Number.isFinite(w) || w < 0) throw new VisorError('QUERY_INVALID', `${name} must be a finite number ≥ 0, got ${w}`);
  return w;
}

/** acc += scale · unit(v) */
function addScaled(acc: Float64Array, v: ArrayLike<number>, scale: number, what: string): void {
  const u = normalize(v, what);
  for (let i = 0; i < acc.length; i++) acc[i]! += scale * u[i]!;
}

/**
 * q = normalise(Σ wᵢ·eᵢ − Σ vⱼ·nⱼ) over the positive terms e and negative terms n, each term
 * first scaled to unit length so a weight means the same whatever the term's source (an image
 * and a text embedding can differ in norm). At least one positive term is required: negative
 * terms alone say what is not wanted, not what is.
 */
export function weightedQuery(terms: readonly QueryTerm[]): Float32Array {
  const positives = terms.filter((t) => !t.negative);
  if (positives.length === 0) throw new VisorError('QUERY_INVALID', 'a query needs at least one positive term: negative terms only say what to avoid');
  const dim = terms[0]!.vector.length;
  checkDims(terms.map((t) => t.vector), dim, 'query term');
  const acc = new Float64Array(dim);
  terms.forEach((t, i) => {
    const w = t.weight ?? 1;
    if (!Number.isFinite(w) || w <= 0) throw new VisorError('QUERY_INVALID', `the weight of query term ${i + 1} must be a finite number > 0, got ${w}`);
    addScaled(acc, t.vector, t.negative ? -w : w, `query term ${i + 1}`);
  });
  return normalize(acc, 'the combined query (its terms cancel out)');
}

/**
 * Rocchio relevance feedback: q' = normalise(α·q + β·mean(liked) − γ·mean(disliked)), with q and
 * every item first scaled to unit length. Either list may be empty (its term is then left out);
 * the query moves toward what was liked and away from what was not.
 */
export function rocchio(
  query: ArrayLike<number>,
  liked: ReadonlyArray<ArrayLike<number>>,
  disliked: ReadonlyArray<ArrayLike<number>> = [],
  weights: RocchioWeights = {},
): Float32Array {
  const alpha = checkWeight(weights.alpha ?? ROCCHIO_DEFAULTS.alpha, 'alpha');
  const beta = checkWeight(weights.beta ?? ROCCHIO_DEFAULTS.beta, 'beta');
  const gamma = checkWeight(weights.gamma ?? ROCCHIO_DEFAULTS.gamma, 'gamma');
  const dim = query.length;
  checkDims(liked, dim, 'liked item');
  checkDims(disliked, dim, 'disliked item');
  const acc = new Float64Array(dim);
  addScaled(acc, query, alpha, 'query vector');
  for (const v of liked) addScaled(acc, v, beta / liked.length, 'liked item');
  for (const v of disliked) addScaled(acc, v, -gamma / disliked.length, 'disliked item');
  return normalize(acc, 'the query after feedback');
}
