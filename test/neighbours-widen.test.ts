import { describe, expect, it } from 'vitest';
import { MemoryStore } from '../src/store/memory/memory-store.js';
import { fillGraph } from '../src/search/neighbours/graph-fill.js';
import { GraphTable } from '../src/search/neighbours/graph-table.js';
import { SearchPipeline } from '../src/search/pipeline.js';
import { NeighboursStage } from '../src/search/stages/neighbours.js';
import { VisorError } from '../src/errors.js';
import { lcg, randomUnit, vectorItem } from './fixtures.js';

const DIM = 16;
const K = 12;
const CLUSTERS = 8;
const N = 800;
const idOf = (i: number) => i.toString(16).padStart(32, '0');

/** Noisy clusters that share a common part: the cosine's first hits are good, its later ones mixed. */
function vectors(n: number, seed: number): Float32Array[] {
  const r = lcg(seed);
  const common = randomUnit(r, DIM);
  const centres = Array.from({ length: CLUSTERS }, () => randomUnit(r, DIM));
  return Array.from({ length: n }, (_, i) => {
    const noise = randomUnit(r, DIM);
    const c = centres[i % CLUSTERS]!;
    const v = c.map((x, j) => x + 1.5 * common[j]! + 1.2 * noise[j]!);
    const norm = Math.hypot(...v);
    return v.map((x) => x / norm);
  });
}

const item = (i: number, vector: Float32Array) => vectorItem(idOf(i), `/p/${i % 2 ? 'odd' : 'even'}/${i}.jpg`, vector);

describe('re-ranking widened by the graph', () => {
  it("asks the store for the first few hits only, adds their graph neighbours, and ranks as well as re-ranking the store's deeper list", async () => {
    const store = new MemoryStore({ dimension: DIM, numClasses: 0, imageModel: 'test' });
    await store.insert(vectors(N, 5).map((v, i) => item(i, v)));
    await fillGraph(store, { k: K });
    const table = await GraphTable.open(store, K);
    const asked: number[] = [];
    const search = store.search.bind(store);
    store.search = (q, opts) => (asked.push(opts.k), search(q, opts));
    const stage = new NeighboursStage({ defaults: () => ({ image: 'diffusion', text: 'none' }), graph: (ids) => table.rowsFor(ids) });
    const pipeline = new SearchPipeline({
      store,
      encoders: async () => {
        throw new VisorError('QUERY_INVALID', 'items only');
      },
      signals: async () => [],
      stages: async () => [stage],
    });
    const params = { method: 'diffusion', depth: 100, graphK: K, seeds: 8 };
    const precision = async (neighbours: object | false, where?: string) => {
      let hits = 0;
      let widened = 0;
      const pages: string[][] = [];
      for (let q = 0; q < 40; q++) {
        const query = q * 19;
        const res = await pipeline.search({
          images: [{ id: idOf(query) }],
          excludeSelf: true,
          k: 10,
          stages: { neighbours: neighbours },
          ...(where ? { where } : {}),
        });
        expect(res.results).toHaveLength(10);
        expect(res.results.some((r) => r.id === idOf(query))).toBe(false);
        if (where) expect(res.results.every((r) => r.path.startsWith('/p/even/'))).toBe(true);
        pages.push(res.results.map((r) => r.id));
        hits += res.results.filter((r) => parseInt(r.id, 16) % CLUSTERS === query % CLUSTERS).length;
        widened += Number((res.stages?.neighbours as { widened?: number } | undefined)?.widened ?? 0);
      }
      return { precision: hits / 400, widened, pages };
    };

    const cosine = await precision(false);
    asked.length = 0;
    const deep = await precision({ ...params, expandFrom: 0 });
    expect(new Set(asked)).toEqual(new Set([100]));
    asked.length = 0;
    const wide = await precision({ ...params, expandFrom: 10 });
    expect(new Set(asked)).toEqual(new Set([10]));
    expect(wide.widened).toBeGreaterThan(40 * K);
    expect(deep.widened).toBe(0);
    // The widened hits rank as the deep list does: mostly the same first ten, as precise, and not simply the cosine's.
    const shared = (a: string[][], b: string[][]) => a.reduce((s, page, i) => s + page.filter((id) => b[i]!.includes(id)).length, 0) / 400;
    expect(shared(wide.pages, deep.pages)).toBeGreaterThan(Math.max(0.85, shared(cosine.pages, deep.pages) + 0.05));
    expect(wide.precision).toBeGreaterThan(deep.precision - 0.02);
    expect(shared(wide.pages, cosine.pages)).toBeLessThan(0.9);

    // A filtered query gets no neighbour the filter would have kept out: it re-ranks the store's deeper list.
    asked.length = 0;
    const filtered = await precision({ ...params, expandFrom: 10 }, "path LIKE '/p/even/%'");
    expect(filtered.widened).toBe(0);
    expect(new Set(asked)).toEqual(new Set([100]));
  });
});
