import { VisorError } from '../../errors.js';
import type { GraphRows } from '../neighbours/rerankers.js';
import {
  DEFAULT_RERANK_PARAMS,
  dotRows,
  readsGraph,
  RERANK_METHODS,
  reorder,
  rerankScores,
  type RerankMethod,
  type RerankParams,
} from '../neighbours/rerankers.js';
import type { Candidate, QueryContext, Stage, StageState } from '../signal.js';
import type { Query } from '../query.js';

/** The stage's name in `Query.stages`: `{ neighbours: { method: 'qe' } }`, or false to turn the collection's default off. */
export const NEIGHBOURS_STAGE = 'neighbours';

export interface NeighboursOptions extends Partial<RerankParams> {
  method?: RerankMethod;
}

/** What a collection re-ranks with when a query does not say: image queries, and text or composed ones (pseudo-relevance feedback). */
export interface RerankDefaults {
  image: RerankMethod;
  text: RerankMethod;
}

export interface NeighboursDeps {
  defaults: () => RerankDefaults;
  /** The graph over a snapshot's rows, or null when the collection has none yet. */
  graph: (ids: readonly string[]) => Promise<GraphRows | null>;
}

/** Hits up to the end of the page asked for (k + offset). */
const pageEnd = (q: Query): number => (q.k ?? 10) + (q.offset ?? 0);

/** A query of images or items alone (no words, no composition): what the image default covers. */
function isImageQuery(q: Query): boolean {
  return !q.text?.trim() && !q.compose && Boolean(q.images?.length || q.like?.length);
}

export function parseRerankMethod(value: unknown): RerankMethod {
  if (typeof value === 'string' && (RERANK_METHODS as readonly string[]).includes(value)) return value as RerankMethod;
  throw new VisorError('QUERY_INVALID', `unknown re-ranking ${JSON.stringify(value)}; use one of ${RERANK_METHODS.join(', ')}`);
}

/**
 * Re-ranks a query's first hits with the collection's own neighbour graph: αQE, DBA or
 * diffusion (neighbours/rerankers.ts, docs/reranking.md). It works on the store's top hits, so
 * an image query keeps its fast path: unfiltered, the store's first `expandFrom` hits and their
 * graph neighbours; filtered, the store's top `depth` (a neighbour may not pass the filter). For words
 * and composed queries it re-ranks the fused head by the images found first (pseudo-relevance
 * feedback). Without a graph (an index made before it) the ranking is left as it is.
 */
export class NeighboursStage implements Stage {
  readonly name = NEIGHBOURS_STAGE;
  readonly onHits = true;

  constructor(private readonly deps: NeighboursDeps) {}

  private options(query: Query): NeighboursOptions | null {
    const o = query.stages?.[NEIGHBOURS_STAGE];
    if (o === false) return null;
    const given = typeof o === 'object' ? (o as NeighboursOptions) : {};
    // The collection's default stays out of queries through the domain stages (objects, categories), which rank by other scores.
    if (o === undefined && Object.entries(query.stages ?? {}).some(([name, on]) => name !== NEIGHBOURS_STAGE && on)) return null;
    const d = this.deps.defaults();
    const method = given.method !== undefined ? parseRerankMethod(given.method) : isImageQuery(query) ? d.image : d.text;
    return method === 'none' ? null : { ...given, method };
  }

  active(query: Query): boolean {
    return this.options(query) !== null;
  }

  private params(query: Query): RerankParams {
    const { method: _, ...given } = this.options(query) ?? {};
    return { ...DEFAULT_RERANK_PARAMS, ...given };
  }

  /** The hits re-ranked: `depth` of them, or the whole page asked for when it reaches further. */
  private reranked(q: Query, p: RerankParams): number {
    return Math.max(p.depth, pageEnd(q));
  }

  /** Whether the first hits are widened with their graph neighbours: an unfiltered image query, by a method with a graph. */
  private expands(ctx: QueryContext, p: RerankParams, method: RerankMethod | undefined): boolean {
    return p.expandFrom > 0 && readsGraph(method) && isImageQuery(ctx.query) && !ctx.filtered && !ctx.encoded.space;
  }

  /** The first hits the stage needs: the whole re-ranked head, or only the hits whose neighbours widen it. */
  depth(ctx: QueryContext): number {
    const q = ctx.query;
    const p = this.params(q);
    return this.expands(ctx, p, this.options(q)?.method) ? Math.max(p.expandFrom, pageEnd(q)) : this.reranked(q, p);
  }

  async rerank(ctx: QueryContext, candidates: Candidate[], state: StageState): Promise<void> {
    const opts = this.options(ctx.query);
    if (!opts || candidates.length < 1) return;
    const method = opts.method!;
    const p = this.params(ctx.query);
    if (ctx.encoded.space) {
      state.report.neighbours = { method: 'none', note: `no neighbour graph in the ${ctx.encoded.space} space` };
      return;
    }
    const graph = readsGraph(method) ? await this.deps.graph(ctx.ids) : null;
    if (readsGraph(method) && !graph) {
      state.report.neighbours = {
        method: 'none',
        note: "the collection keeps no neighbour graph yet: 'visor index --image-rerank diffusion' builds it (docs/reranking.md)",
      };
      return;
    }
    const { matrix } = await ctx.store.vectors();
    const dim = ctx.ids.length ? matrix.length / ctx.ids.length : 0;
    const image = ctx.encoded.toward;
    const added = graph && image && this.expands(ctx, p, method) ? widen(ctx, candidates, graph, p.expandFrom, image, matrix, dim) : 0;
    if (candidates.length < 2) return;
    // The first hits are re-ranked; any further ones (another stage asked for more) keep their order after them.
    const head = candidates.slice(0, this.reranked(ctx.query, p));
    const hits = { rows: Int32Array.from(head, (c) => c.row), scores: Float32Array.from(head, (c) => c.score) };
    // Words or a composition: the first hits stand for the query (their mean is the query vector),
    // and the fused scores are no cosines — each of the first hits seeds equally, none is kept first.
    const query = image && !ctx.composeText && ctx.text.positive.length === 0 ? image : meanOf(hits.rows, Math.min(p.qeTop, hits.rows.length), matrix, dim);
    const pseudo = query !== image;
    if (pseudo) hits.scores = Float32Array.from(hits.rows, (_, i) => (i < p.seeds ? 1 : 0));
    const scores = rerankScores(method, query, hits, { matrix, dim }, graph, p, !pseudo);
    const order = reorder(hits, scores, pseudo ? Infinity : p.keepAbove);
    candidates.splice(0, head.length, ...order.map((i) => ({ ...head[i]!, why: { ...head[i]!.why, [method]: scores[i] } })));
    state.report.neighbours = { method, ...(added ? { widened: added } : {}) };
  }
}

/**
 * Adds the graph neighbours of the first `from` hits to the candidates, scored by their cosine
 * to the query (items the query excludes stay out), and sorts all by score; returns how many
 * were added. Relevant images that the first hits link to are then re-ranked without a deep
 * search of the store.
 */
function widen(ctx: QueryContext, candidates: Candidate[], graph: GraphRows, from: number, image: Float32Array, matrix: Float32Array, dim: number): number {
  const seen = new Set(candidates.map((c) => c.row));
  for (const id of ctx.encoded.exclude) {
    const r = ctx.rowOf.get(id);
    if (r !== undefined) seen.add(r);
  }
  const norm = dotRows(image, 0, image, 0, dim);
  const inv = norm > 0 ? 1 / Math.sqrt(norm) : 0;
  const firsts = candidates.slice(0, from).map((c) => c.row);
  let added = 0;
  for (const r of firsts) {
    for (let j = 0; j < graph.k; j++) {
      const g = graph.rows[r * graph.k + j]!;
      if (g < 0) break;
      if (seen.has(g)) continue;
      seen.add(g);
      candidates.push({ row: g, score: dotRows(image, 0, matrix, g * dim, dim) * inv });
      added++;
    }
  }
  candidates.sort((a, b) => b.score - a.score);
  return added;
}

function meanOf(rows: Int32Array, n: number, matrix: Float32Array, dim: number): Float32Array {
  const q = new Float32Array(dim);
  for (let j = 0; j < n; j++) for (let i = 0; i < dim; i++) q[i]! += matrix[rows[j]! * dim + i]!;
  let s = 0;
  for (let i = 0; i < dim; i++) s += q[i]! * q[i]!;
  const inv = s > 0 ? 1 / Math.sqrt(s) : 0;
  for (let i = 0; i < dim; i++) q[i]! *= inv;
  return q;
}
