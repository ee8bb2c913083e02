/**
 * The one query path. Every way of searching — by image, by item, by words, composed, with
 * feedback, in another embedding space, through the optional stages — is a `Query` through
 * these steps: validate → encode the query's parts → candidates → signals → fuse → filter and
 * page → explain → hydrate. Signals and stages are plug-ins (signal.ts); nothing here names one.
 */
import { encodeQuery, type QueryEncoders } from './encode.js';
import { fuse, topIndices, type FusionMethod } from './fusion.js';
import { hydrate, type SearchResult } from './results.js';
import type { Candidate, Contribution, MatchReason, QueryContext, Signal, SignalOutcome, SignalReport, Stage } from './signal.js';
import type { SearchStore } from './store.js';
import { splitWhere, type RowFilter } from './filter.js';
import { validateQuery } from './validate.js';
import { DEFAULT_WEIGHTS, type Query } from './query.js';

export interface RankedResult extends SearchResult {
  why: MatchReason;
}

export interface SearchResponse {
  results: RankedResult[];
  /** False when no signal could make sense of the query: results are then empty. */
  understood: boolean;
  message?: string;
  signals: SignalReport[];
  fusion: FusionMethod | 'single';
  /** What the query's stages found out about it (predicted categories, the object found…), by stage. */
  stages?: Record<string, unknown>;
}

export interface PipelineDeps {
  store: SearchStore;
  encoders: QueryEncoders;
  /** The collection's signals, in the order their scores are fused. */
  signals: () => Promise<readonly Signal[]>;
  /** Optional stages, each switched on per query. */
  stages?: () => Promise<readonly Stage[]>;
  /** Filters over what the store's items do not hold (counted objects, colours): they take their part of `where`. */
  filters?: () => Promise<readonly RowFilter[]>;
  fusion?: FusionMethod;
}

/** Row of each id, per ids array (the store's, which is replaced whenever the table changes). */
const rowIndexes = new WeakMap<readonly string[], Map<string, number>>();
function rowIndex(ids: readonly string[]): Map<string, number> {
  let m = rowIndexes.get(ids);
  if (!m) rowIndexes.set(ids, (m = new Map(ids.map((id, i) => [id, i]))));
  return m;
}

export class SearchPipeline {
  constructor(private readonly deps: PipelineDeps) {}

  async search(query: Query): Promise<SearchResponse> {
    const { store } = this.deps;
    const signals = await this.deps.signals();
    const allStages = (await this.deps.stages?.()) ?? [];

    // 1. validate
    const defaults = Object.fromEntries(signals.filter((s) => s.defaultWeight !== undefined).map((s) => [s.name, s.defaultWeight!]));
    const v = validateQuery(query, [...new Set([...Object.keys(DEFAULT_WEIGHTS), ...signals.map((s) => s.name)])], defaults);
    const stages = allStages.filter((s) => s.active(query));
    const { k, offset } = v;
    const where = splitWhere(query, (await this.deps.filters?.()) ?? []);

    // 2. encode the query's parts
    const encoded = await encodeQuery(query, store, this.deps.encoders, v.weights.negative!);

    // 3. candidates: a query of images alone, with nothing to fuse, is the store's own top-k
    // (approximate past its threshold), the fastest path; stages that re-rank hits see its top `depth`.
    if (
      encoded.toward &&
      v.text.positive.length === 0 &&
      v.text.negative.length === 0 &&
      !v.composeText &&
      stages.every((s) => s.onHits) &&
      where.filters.length === 0
    ) {
      const onHits = stages.length ? await queryContext(query, v, encoded, store, Boolean(where.store)) : null;
      const depth = Math.max(k + offset, ...stages.map((s) => (onHits && s.depth?.(onHits)) || 0));
      const opts = { k: depth, where: where.store, exact: query.exact, exclude: encoded.exclude };
      let hits: Array<{ id: string; score: number; why?: Record<string, unknown> }> =
        encoded.space === undefined ? await store.search(encoded.toward, opts) : await store.searchSpace(encoded.space, encoded.toward, opts);
      if (onHits) hits = await rerankHits(onHits, hits, stages);
      hits = hits.slice(0, k + offset);
      const whyOf = new Map(hits.map((h) => [h.id, h.why]));
      const results = query.lean ? leanPage(hits, offset) : await hydrate(store, hits, offset);
      const signals = [{ name: 'visual', understood: true, ...(encoded.space ? { note: `in the ${encoded.space} space` } : {}) }];
      return {
        results: results.map((r) => ({ ...r, why: { visual: r.score, ...whyOf.get(r.id) } })),
        understood: true,
        signals,
        fusion: 'single',
        ...(onHits ? { stages: onHits.stageState.report } : {}),
      };
    }

    // Otherwise every item is scored: one snapshot of the rows for every score array.
    const ctx = await queryContext(query, v, encoded, store, Boolean(where.store) || where.filters.length > 0);
    const { ids, stageState: state } = ctx;
    const n = ids.length;
    for (const stage of stages) await stage.prepare?.(ctx, state);

    // 4. signals: the query as a whole, then each negative word, in the signals' order.
    const outcomes = new Map<Signal, SignalOutcome>();
    const contributions: Contribution[] = [];
    const reports: SignalReport[] = [];
    for (const signal of signals) {
      const outcome = await signal.score(ctx);
      if (!outcome) continue;
      outcomes.set(signal, outcome);
      contributions.push(...outcome.contributions);
      if (outcome.report) reports.push(outcome.report);
    }
    for (const term of v.text.negative) {
      for (const signal of signals) {
        const c = await signal.scoreNegative?.(ctx, term);
        if (c) contributions.push(c);
      }
    }

    const positive = contributions.filter((s) => s.polarity > 0);
    if (positive.length === 0) return notUnderstood(v.text.positive, signals, v.weights, reports);

    // 5. fuse
    const method: FusionMethod | 'single' = positive.length === 1 && contributions.length === 1 ? 'single' : (query.fusion ?? this.deps.fusion ?? 'rrf');
    const fused = method === 'single' ? positive[0]!.scores.map((x) => (x > (positive[0]!.floor ?? -Infinity) ? x : -Infinity)) : fuse(contributions, n, method);
    for (const stage of stages) await stage.bias?.(ctx, fused, state);

    // 6. filter and page
    let mask: Uint8Array | undefined;
    if (where.store) {
      mask = new Uint8Array(n);
      for (const id of await store.idsWhere(where.store)) {
        const r = ctx.rowOf.get(id);
        if (r !== undefined) mask[r] = 1;
      }
    }
    for (const { filter, conjuncts } of where.filters) {
      const admitted = await filter.admit(query, conjuncts, ids);
      if (!mask) mask = admitted;
      else for (let r = 0; r < n; r++) mask[r]! &= admitted[r]!;
    }
    if (encoded.exclude.size) {
      mask ??= new Uint8Array(n).fill(1);
      for (const id of encoded.exclude) {
        const r = ctx.rowOf.get(id);
        if (r !== undefined) mask[r] = 0;
      }
    }
    const depth = Math.max(k + offset, ...stages.map((s) => s.depth?.(ctx) ?? 0));
    let ranked: Candidate[] = Array.from(topIndices(fused, depth, -Infinity, mask), (row) => ({ row, score: fused[row]! }));
    for (const stage of stages) await stage.rerank?.(ctx, ranked, state);
    ranked = ranked.slice(0, k + offset);
    const stageReport = stages.length ? state.report : undefined;

    const page = ranked.slice(offset);
    if (query.lean) {
      const results = page.map((c, i) => ({
        rank: offset + i + 1,
        id: ids[c.row]!,
        score: c.score,
        path: '',
        paths: [],
        width: 0,
        height: 0,
        format: '',
        meta: {},
        why: {},
      }));
      return { results, understood: true, signals: reports, fusion: method, ...(stageReport ? { stages: stageReport } : {}) };
    }

    // 7–8. hydrate the page (hydrate() skips the first `offset` hits itself), then explain each result.
    const results = await hydrate(
      store,
      ranked.map((c) => ({ id: ids[c.row]!, score: c.score })),
      offset,
    );
    const byId = new Map(page.map((c) => [ids[c.row]!, c]));
    const explained: RankedResult[] = [];
    for (const res of results) {
      const c = byId.get(res.id)!;
      const why: MatchReason = {};
      for (const [signal, outcome] of outcomes) {
        const reason = await signal.explain?.(ctx, c.row, outcome, res);
        if (reason !== undefined) why[signal.name] = reason;
      }
      const penalised = contributions.filter((s) => s.polarity < 0 && s.scores[c.row]! > (s.floor ?? 0)).map((s) => s.label ?? 'negative');
      if (penalised.length) why.penalised = penalised;
      explained.push({ ...res, why: c.why ? { ...why, ...c.why } : why });
    }
    return { results: explained, understood: true, signals: reports, fusion: method, ...(stageReport ? { stages: stageReport } : {}) };
  }
}

/** Ranking only (Query.lean): no stored records read. */
function leanPage(hits: ReadonlyArray<{ id: string; score: number }>, offset: number): SearchResult[] {
  return hits.slice(offset).map((h, i) => ({ rank: offset + i + 1, id: h.id, score: h.score, path: '', paths: [], width: 0, height: 0, format: '', meta: {} }));
}

/** The context a query's signals and stages share: one snapshot of the rows (the fast path of an image query too). */
async function queryContext(
  query: Query,
  v: ReturnType<typeof validateQuery>,
  encoded: QueryContext['encoded'],
  store: SearchStore,
  filtered: boolean,
): Promise<QueryContext> {
  const { ids } = await store.vectors();
  return {
    query,
    weights: v.weights,
    text: v.text,
    composeText: v.composeText,
    store,
    encoded,
    ids,
    rowOf: rowIndex(ids),
    filtered,
    stageState: { report: {} },
  };
}

/** The store's hits through the stages' re-ranking (hits of items outside the snapshot keep their place at the end). */
async function rerankHits(
  ctx: QueryContext,
  hits: Array<{ id: string; score: number }>,
  stages: readonly Stage[],
): Promise<Array<{ id: string; score: number; why?: Record<string, unknown> }>> {
  for (const stage of stages) await stage.prepare?.(ctx, ctx.stageState);
  const ranked: Candidate[] = [];
  const outside: typeof hits = [];
  for (const h of hits) {
    const row = ctx.rowOf.get(h.id);
    if (row === undefined) outside.push(h);
    else ranked.push({ row, score: h.score });
  }
  for (const stage of stages) await stage.rerank?.(ctx, ranked, ctx.stageState);
  return [...ranked.map((c) => ({ id: ctx.ids[c.row]!, score: c.score, ...(c.why ? { why: c.why } : {}) })), ...outside];
}

function notUnderstood(terms: readonly string[], signals: readonly Signal[], weights: Readonly<Record<string, number>>, reports: SignalReport[]): SearchResponse {
  const unknown = terms.map((t) => JSON.stringify(t)).join(', ');
  // Signals the caller's weights switched off did not get to read the words: say so, not that nothing knows them.
  const off = terms.length ? signals.filter((s) => s.readsText && weights[s.name] === 0).map((s) => s.name) : [];
  return {
    results: [],
    understood: false,
    message: off.length
      ? `nothing answers ${unknown}: ${off.join(', ')} ${off.length === 1 ? 'is' : 'are'} switched off (weight 0), and no other signal understood it`
      : `nothing in this collection matches ${unknown}: no visual concept the image model knows, and no file name or catalogue field contains it`,
    signals: reports,
    fusion: 'single',
  };
}
