/**
 * The neighbour graph and the re-ranking stage at scale, for npm run bench:search (per size, on
 * the store it has built and indexed for ANN):
 * - graph build time through the store's ANN search (fillGraph, as `visor index` runs it), and
 *   its size (stored rows: a slot, K neighbour slots and K cosines, as float32); past
 *   `fullBuildMax` items the build is timed on a sample of items and scaled (said so);
 * - image-query p50 through the query pipeline, an indexed item as the query: the store's top
 *   k alone, and with the stage (diffusion with its defaults: the store's first hits widened by
 *   their graph neighbours) — both the fast path;
 * - adding 1,000 items, then the incremental update's time against the full build's.
 */
import type { LanceStore } from '../../src/store/lance-store.js';
import type { ItemWithVectors } from '../../src/store/types.js';
import { SearchPipeline } from '../../src/search/pipeline.js';
import { NeighboursStage } from '../../src/search/stages/neighbours.js';
import { fillGraph, type GraphFillSummary } from '../../src/search/neighbours/graph-fill.js';
import { GraphTable } from '../../src/search/neighbours/graph-table.js';
import { buildGraph, GRAPH_K } from '../../src/search/neighbours/knn-graph.js';
import { DEFAULT_RERANK_PARAMS } from '../../src/search/neighbours/rerankers.js';
import { VisorError } from '../../src/errors.js';

export interface GraphBenchRow {
  n: number;
  /** Seconds for the whole graph (measured, or estimated from a sample where `sampled`). */
  buildS: number;
  sampled?: number;
  /** Bytes of the stored rows. */
  bytes: number;
  p50Without: number;
  p50With: number;
  addS?: number;
  added?: GraphFillSummary;
}

const percentile = (values: number[], p: number) => [...values].sort((a, b) => a - b)[Math.min(values.length - 1, Math.floor(p * values.length))]!;

export async function graphBench(
  store: LanceStore,
  n: number,
  more: () => ItemWithVectors[],
  opts: { fullBuildMax: number; sample: number; queries: number; log: (s: string) => void; depth?: number },
): Promise<GraphBenchRow> {
  const bytes = n * (4 + 2 * GRAPH_K * 4);
  let buildS: number;
  let sampled: number | undefined;
  if (n <= opts.fullBuildMax) {
    const built = await fillGraph(store, { full: true });
    if (built.search !== 'ann') throw new Error(`graph built by ${built.search} search, not through the ANN index`);
    buildS = built.seconds;
  } else {
    // The same ANN searches fillGraph makes, for a sample of items, scaled to all of them.
    const { ids, matrix } = await store.vectors();
    const dim = matrix.length / ids.length;
    const rowOf = new Map(ids.map((id, i) => [id, i]));
    const t0 = performance.now();
    await buildGraph(ids.slice(0, opts.sample), matrix.subarray(0, opts.sample * dim), GRAPH_K, async (q, count, k) => {
      const rows = new Int32Array(count * k).fill(-1);
      const scores = new Float32Array(count * k);
      for (let s = 0; s < count; s += 8) {
        const batch = Array.from({ length: Math.min(8, count - s) }, (_, i) => s + i);
        const answers = await Promise.all(batch.map((i) => store.search(q.subarray(i * dim, (i + 1) * dim), { k })));
        answers.forEach((hits, i) => hits.forEach((h, j) => ((rows[batch[i]! * k + j] = rowOf.get(h.id) ?? -1), (scores[batch[i]! * k + j] = h.score))));
      }
      return { rows, scores, k };
    });
    buildS = ((performance.now() - t0) / 1000) * (n / opts.sample);
    sampled = opts.sample;
  }

  // Query latency: the pipeline's fast path, without and with the stage.
  const table = await GraphTable.open(store, GRAPH_K);
  const stage = new NeighboursStage({ defaults: () => ({ image: 'diffusion', text: 'none' }), graph: (ids) => table.rowsFor(ids) });
  const noEncoder = async () => {
    throw new VisorError('QUERY_INVALID', 'the benchmark queries by indexed items only');
  };
  const pipeline = new SearchPipeline({ store, encoders: noEncoder, signals: async () => [], stages: async () => (sampled ? [] : [stage]) });
  const { ids } = await store.vectors();
  const queryIds = Array.from({ length: opts.queries + 20 }, (_, i) => ids[Math.floor(((i + 0.5) * ids.length) / (opts.queries + 20))]!);
  const time = async (on: boolean) => {
    const ms: number[] = [];
    for (const [i, id] of queryIds.entries()) {
      const t = performance.now();
      await pipeline.search({
        images: [{ id }],
        excludeSelf: true,
        k: 10,
        stages: { neighbours: on ? { method: 'diffusion', ...(opts.depth ? { depth: opts.depth } : {}) } : false },
      });
      if (i >= 20) ms.push(performance.now() - t);
    }
    return percentile(ms, 0.5);
  };
  await table.rowsFor(ids); // the graph's rows are read once per version, not per query
  const p50Without = await time(false);
  const p50With = sampled ? Number.NaN : await time(true);

  let addS: number | undefined;
  let added: GraphFillSummary | undefined;
  if (!sampled) {
    await store.upsert(more());
    const t0 = performance.now();
    added = await fillGraph(store);
    addS = (performance.now() - t0) / 1000;
  }
  opts.log(
    `  graph (k=${GRAPH_K}, ANN): build ${buildS.toFixed(1)} s${sampled ? ` (estimated from ${sampled.toLocaleString('en-US')} items' searches)` : ''}, ` +
      `${(bytes / 2 ** 20).toFixed(0)} MiB; image query p50 ${p50Without.toFixed(1)} ms without the stage` +
      (sampled
        ? ''
        : `, ${p50With.toFixed(1)} ms with diffusion (the store's first ${DEFAULT_RERANK_PARAMS.expandFrom} hits and their graph neighbours, ` +
          `the ${opts.depth ?? DEFAULT_RERANK_PARAMS.depth} nearest re-ranked: ${(p50With / p50Without).toFixed(2)}×)`) +
      (added
        ? `; +${added.added} items: update ${addS!.toFixed(1)} s (${((100 * addS!) / buildS).toFixed(1)} % of the build), ${added.rowsWritten} rows written`
        : ''),
  );
  return { n, buildS, sampled, bytes, p50Without, p50With, addS, added };
}
