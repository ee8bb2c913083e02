/**
 * Chooses the re-ranking stage's parameters on CIFAR-10 tuning queries that the reported
 * figures leave out: of the 10,000 test images (labels.csv order), every tenth (index % 10 = 0,
 * 1,000 images, about 100 per class) is a tuning query; `visor-lab eval cifar10` reports its
 * figures over all 10,000 queries and over the other 9,000 alone. The gallery is always the
 * whole collection (a re-ranker may use every image, unlabelled, as the product would).
 *
 * Works on an index made by `visor-lab eval cifar10 --db DIR` (its vectors, read once): the
 * first ranking is the exact top `depth` per query, the graph exact; each setting is scored by
 * mAP@1000 and P@10 over the tuning queries only.
 *
 * Usage: tsx lab/eval/rerank-tune.ts DIR [method …]
 */
import { Collection } from '../../src/collection.js';
import { ExactKernel } from '../../src/store/exact-kernel.js';
import { buildGraph, GRAPH_K } from '../../src/search/neighbours/knn-graph.js';
import { DEFAULT_RERANK_PARAMS, reorder, rerankScores, type RerankMethod, type RerankParams } from '../../src/search/neighbours/rerankers.js';
import { loadCifar10 } from './datasets.js';
import { summarize, type RankedQuery } from './metrics.js';

/** Whether the image at this labels.csv index is a tuning query (and so left out of the held-out figures). */
export const isTuningQuery = (index: number): boolean => index % 10 === 0;

const db = process.argv[2];
if (!db) throw new Error('usage: tsx lab/eval/rerank-tune.ts DIR [method …]');
const methods = (process.argv.length > 3 ? process.argv.slice(3) : ['none', 'qe', 'dba', 'diffusion']) as RerankMethod[];

const data = loadCifar10();
const collection = await Collection.open({ db });
const store = collection.store;
const { ids, matrix } = await store.vectors();
const dim = store.dimension;
const labelOfPath = new Map(data.images.map((im) => [im.path, im.label]));
const labelOfRow = new Int32Array(ids.length).fill(-1);
const rowOf = new Map(ids.map((id, i) => [id, i]));
for (const s of await store.fileStates()) labelOfRow[rowOf.get(s.id)!] = labelOfPath.get(s.path) ?? -1;
const perClass = new Map<number, number>();
for (const l of labelOfRow) perClass.set(l, (perClass.get(l) ?? 0) + 1);
const pathRow = new Map<string, number>();
for (const s of await store.fileStates()) pathRow.set(s.path, rowOf.get(s.id)!);
const queries = [...new Set(data.images.flatMap((im, i) => (isTuningQuery(i) ? [pathRow.get(im.path)!] : [])))];
console.log(`${ids.length} items, ${queries.length} tuning queries`);

const kernel = await ExactKernel.create();
const t0 = performance.now();
const graph = await buildGraph(ids, matrix, GRAPH_K, (q, count, k) => kernel.topK(q, count, matrix, ids.length, new Float32Array(ids.length), k));
console.log(`graph k=${GRAPH_K}: ${((performance.now() - t0) / 1000).toFixed(1)} s`);
const depths = (process.env.DEPTHS ?? '1000').split(',').map(Number);
const maxDepth = Math.min(ids.length - 1, Math.max(...depths));
const qm = new Float32Array(queries.length * dim);
queries.forEach((r, i) => qm.set(matrix.subarray(r * dim, (r + 1) * dim), i * dim));
const first = await kernel.topK(qm, queries.length, matrix, ids.length, new Float32Array(ids.length), maxDepth + 1);
await kernel.close();

function evaluate(method: RerankMethod, p: RerankParams): { map: number; p10: number } {
  const ranked: RankedQuery[] = [];
  queries.forEach((qr, qi) => {
    const rows: number[] = [];
    const scores: number[] = [];
    for (let j = 0; j < first.k && rows.length < p.depth; j++) {
      const r = first.rows[qi * first.k + j]!;
      if (r === qr) continue;
      rows.push(r);
      scores.push(first.scores[qi * first.k + j]!);
    }
    const hits = { rows: Int32Array.from(rows), scores: Float32Array.from(scores) };
    const s = rerankScores(method, matrix.subarray(qr * dim, (qr + 1) * dim), hits, { matrix, dim }, graph, p);
    const order = reorder(hits, s, p.keepAbove);
    const label = labelOfRow[qr]!;
    ranked.push({ relevant: Uint8Array.from(order, (i) => (labelOfRow[hits.rows[i]!] === label ? 1 : 0)), totalRelevant: perClass.get(label)! - 1 });
  });
  const m = summarize(ranked, { ks: [10], mapAt: [1000] });
  return { map: m.mapAt[1000]!, p10: m.precisionAtK[10]! };
}

const grids: Record<RerankMethod, Array<Partial<RerankParams>>> = {
  none: [{}],
  qe: [5, 10, 20, 50].flatMap((qeTop) => [1, 3].map((qeAlpha) => ({ qeTop, qeAlpha }))),
  dba: [5, 10].flatMap((dbaTop) => [1, 3].map((dbaAlpha) => ({ dbaTop, dbaAlpha, qeTop: 10, qeAlpha: 3 }))),
  diffusion: (process.env.GRID
    ? JSON.parse(process.env.GRID)
    : [10, 20, 50].flatMap((graphK) => [5, 20].flatMap((seeds) => [0.9, 0.99].map((alpha) => ({ graphK, seeds, alpha, gamma: 3 }))))) as Array<
    Partial<RerankParams>
  >,
};
for (const method of methods) {
  let best: { p: RerankParams; map: number; p10: number } | null = null;
  for (const g of grids[method]) {
    for (const depth of method === 'none' ? [1000] : depths) {
      const p = { ...DEFAULT_RERANK_PARAMS, ...g, depth };
      const r = evaluate(method, p);
      if (!best || r.map > best.map) best = { p, ...r };
      if (process.env.VERBOSE) console.log(method, JSON.stringify({ ...g, depth }), r.map.toFixed(4), r.p10.toFixed(4));
    }
  }
  console.log(`${method}: best mAP@1000 ${best!.map.toFixed(4)} P@10 ${best!.p10.toFixed(4)}  ${JSON.stringify(best!.p)}`);
}
await collection.close();
