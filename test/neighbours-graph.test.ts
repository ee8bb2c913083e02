import { describe, expect, it } from 'vitest';
import { MemoryStore } from '../src/store/memory/memory-store.js';
import { fillGraph } from '../src/search/neighbours/graph-fill.js';
import { GraphTable } from '../src/search/neighbours/graph-table.js';
import { offerNeighbour } from '../src/search/neighbours/knn-graph.js';
import { DEFAULT_RERANK_PARAMS, reorder, rerankScores, type RerankMethod } from '../src/search/neighbours/rerankers.js';
import { lcg, randomUnit, vectorItem } from './fixtures.js';

const DIM = 16;
const K = 8;
const idOf = (i: number) => i.toString(16).padStart(32, '0');

/** Unit vectors around a few centres, so neighbourhoods mean something. */
function vectors(n: number, seed: number): Float32Array[] {
  const r = lcg(seed);
  const centres = Array.from({ length: 6 }, () => randomUnit(r, DIM));
  return Array.from({ length: n }, (_, i) => {
    const noise = randomUnit(r, DIM);
    const c = centres[i % centres.length]!;
    const v = c.map((x, j) => x + 0.6 * noise[j]!);
    const norm = Math.hypot(...v);
    return v.map((x) => x / norm);
  });
}

const item = (i: number, vector: Float32Array) => vectorItem(idOf(i), `/p/${i}.jpg`, vector);

async function graphOf(store: MemoryStore) {
  const { ids } = await store.vectors();
  const g = await (await GraphTable.open(store, K)).rowsFor(ids);
  return { ids, g: g! };
}

/** Each item's neighbours as ids, in order: comparable across snapshots. */
function lists(ids: readonly string[], g: { k: number; rows: Int32Array; sims: Float32Array }) {
  return ids.map((id, r) => ({
    id,
    nbrs: Array.from(g.rows.subarray(r * g.k, (r + 1) * g.k), (x) => (x < 0 ? null : ids[x])),
    sims: Array.from(g.sims.subarray(r * g.k, (r + 1) * g.k)),
  }));
}

function ranking(
  method: RerankMethod,
  store: { ids: readonly string[]; matrix: Float32Array },
  g: { k: number; rows: Int32Array; sims: Float32Array },
  q: Float32Array,
): string[] {
  const n = store.ids.length;
  const scored = Array.from({ length: n }, (_, r) => ({ r, s: q.reduce((a, x, j) => a + x * store.matrix[r * DIM + j]!, 0) })).sort(
    (a, b) => b.s - a.s || a.r - b.r,
  );
  const hits = { rows: Int32Array.from(scored, (x) => x.r), scores: Float32Array.from(scored, (x) => x.s) };
  const p = { ...DEFAULT_RERANK_PARAMS, graphK: K, dbaTop: 4, seeds: 5 };
  const order = reorder(hits, rerankScores(method, q, hits, { matrix: store.matrix, dim: DIM }, g, p), p.keepAbove);
  return order.map((i) => store.ids[hits.rows[i]!]!);
}

describe('neighbour graph', () => {
  it('keeps each list best first and admits a better neighbour only', () => {
    const rows = Int32Array.from([5, 7, -1]);
    const sims = Float32Array.from([0.9, 0.5, 0]);
    expect(offerNeighbour(rows, sims, 3, 0, 9, 0.7)).toBe(true);
    expect([...rows]).toEqual([5, 9, 7]);
    expect(offerNeighbour(rows, sims, 3, 0, 4, 0.1)).toBe(false);
    expect(offerNeighbour(rows, sims, 3, 0, 9, 0.8)).toBe(false); // already there
  });

  it('after adding and removing items, equals a rebuild, and so do the rankings', async () => {
    const vs = vectors(400, 7);
    const store = new MemoryStore({ dimension: DIM, numClasses: 0, imageModel: 'test' });
    await store.insert(vs.slice(0, 300).map((v, i) => item(i, v)));
    const first = await fillGraph(store, { k: K });
    expect(first).toMatchObject({ how: 'built', search: 'exact', items: 300 });

    await store.insert(vs.slice(300).map((v, i) => item(300 + i, v)));
    await store.deleteItems(Array.from({ length: 30 }, (_, i) => idOf(i * 7)));
    const update = await fillGraph(store, { k: K });
    expect(update).toMatchObject({ how: 'updated', added: 100, removed: 30, items: 370 });
    expect(update.rowsWritten).toBeLessThan(370);
    const inc = await graphOf(store);
    const snapshot = await store.vectors();
    const queries = vectors(12, 99);
    const before = (['diffusion', 'dba'] as const).flatMap((m) => queries.map((q) => ranking(m, snapshot, inc.g, q)));

    expect(await fillGraph(store, { k: K, full: true })).toMatchObject({ how: 'built', items: 370 });
    const full = await graphOf(store);
    const a = lists(inc.ids, inc.g);
    const b = lists(full.ids, full.g);
    expect(a.map((x) => [x.id, x.nbrs])).toEqual(b.map((x) => [x.id, x.nbrs]));
    a.forEach((x, i) => x.sims.forEach((s, j) => expect(s).toBeCloseTo(b[i]!.sims[j]!, 5)));
    const after = (['diffusion', 'dba'] as const).flatMap((m) => queries.map((q) => ranking(m, snapshot, full.g, q)));
    expect(after).toEqual(before);
    // The graph changed something: diffusion does not simply keep the cosine order.
    expect(before.slice(0, 12).some((r, i) => r.join() !== ranking('none', snapshot, full.g, queries[i]!).join())).toBe(true);
  });

  it('an unchanged collection leaves the graph as it is', async () => {
    const store = new MemoryStore({ dimension: DIM, numClasses: 0, imageModel: 'test' });
    await store.insert(vectors(40, 3).map((v, i) => item(i, v)));
    await fillGraph(store, { k: K });
    expect(await fillGraph(store, { k: K })).toMatchObject({ how: 'unchanged', rowsWritten: 0 });
  });
});
