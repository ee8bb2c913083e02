/**
 * The query pipeline's ranking rules on the in-memory store: words, images, negatives,
 * feedback, filters, paging, plug-in signals and stages. No image model, no sharp, no LanceDB:
 * the items' vectors are made here, so each expectation follows from them.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { rng } from '../lab/random.js';
import { SearchPipeline } from '../src/search/pipeline.js';
import { parseQueryText, type Query } from '../src/search/query.js';
import type { Signal, Stage } from '../src/search/signal.js';
import { KeywordSignal } from '../src/search/signals/keywords.js';
import { VisualSignal } from '../src/search/signals/visual.js';
import { ComposedSignal } from '../src/search/signals/composed.js';
import { MemoryStore } from '../src/store/memory/memory-store.js';
import type { ItemWithVectors } from '../src/store/types.js';

const DIM = 16;
const N = 40;

describe('parseQueryText', () => {
  it('separates negative terms and keeps quoted phrases', () => {
    expect(parseQueryText('dog -grass "golden retriever" -"green field"  beach')).toEqual({
      positive: ['dog', 'golden retriever', 'beach'],
      negative: ['grass', 'green field'],
    });
    expect(parseQueryText('  ')).toEqual({ positive: [], negative: [] });
  });
});

/** Unit vectors in four clusters of ten (a direction each, plus seeded noise). */
function vectors(): Float32Array[] {
  const next = rng(7);
  const centres = Array.from({ length: 4 }, (_, c) => Float32Array.from({ length: DIM }, (_, j) => (j % 4 === c ? 1 : 0)));
  return Array.from({ length: N }, (_, i) => {
    const v = Float32Array.from(centres[Math.floor(i / 10)]!, (x) => x + 0.35 * (next() - 0.5));
    const norm = Math.hypot(...v);
    return v.map((x) => x / norm);
  });
}

const id = (i: number) => i.toString(16).padStart(16, '0');
// Titles: items 0–9 red dresses, 10–19 blue dresses, 20–29 red shirts, the rest untitled.
const title = (i: number) => (i < 10 ? 'Red summer dress' : i < 20 ? 'Blue evening dresses' : i < 30 ? 'Red cotton shirt' : '');

describe('search pipeline on the in-memory store: words, images, negatives, feedback', () => {
  const store = new MemoryStore({ dimension: DIM, numClasses: 0, imageModel: 'test' });
  const signals: Signal[] = [new ComposedSignal(), new VisualSignal(), new KeywordSignal()];
  let stages: Stage[] = [];
  const noEncoder = async (): Promise<never> => {
    throw new Error('these tests query by stored items only');
  };
  const pipeline = new SearchPipeline({ store, encoders: noEncoder, signals: async () => signals, stages: async () => stages });
  const search = (q: Query) => pipeline.search(q);
  let vs: Float32Array[];

  beforeAll(async () => {
    vs = vectors();
    await store.ensureMetaColumns({ title: 'string', price: 'number' });
    const items: ItemWithVectors[] = vs.map((vector, i) => ({
      id: id(i),
      path: `/photos/item-${i}.jpg`,
      paths: [`/photos/item-${i}.jpg`],
      fileSizes: [1000],
      fileMtimes: [0],
      width: 224,
      height: 224,
      format: 'jpeg',
      indexedAt: 0,
      meta: { title: title(i), price: i },
      vector,
      probs: new Float32Array(0),
    }));
    await store.insert(items);
  });

  it('finds catalogue words with stemming and says which words matched', async () => {
    const r = await search({ text: 'dress', k: 30 });
    expect(r.understood).toBe(true);
    expect(r.fusion).toBe('single');
    expect(r.results).toHaveLength(20); // only items with evidence are returned
    for (const x of r.results) {
      expect(String(x.meta.title)).toMatch(/dress/i);
      expect(x.why.keywords!.words).toEqual(['dress']);
    }
  });

  it('answers a query nothing understands with an explanation, not noise', async () => {
    const r = await search({ text: 'qwxz' });
    expect(r.understood).toBe(false);
    expect(r.results).toEqual([]);
    expect(r.message).toMatch(/nothing in this collection matches "qwxz"/);
    expect(r.signals.find((s) => s.name === 'keywords')).toMatchObject({ understood: false });
  });

  it('says which signals the weights switched off, not that nothing knows the words', async () => {
    const r = await search({ text: 'dress', weights: { keywords: 0 } });
    expect(r.understood).toBe(false);
    expect(r.message).toMatch(/keywords is switched off \(weight 0\)/);
  });

  it('explains a word written many times once per result (a 1,000-character query stays a small answer)', async () => {
    const r = await search({ text: 'dress '.repeat(166), k: 10 });
    expect(r.results.length).toBe(10);
    for (const x of r.results) expect(x.why.keywords!.words).toEqual(['dress']);
    expect(JSON.stringify(r).length).toBeLessThan(20_000);
  });

  it('demotes negative words', async () => {
    const plain = await search({ text: 'dress', k: 20 });
    const withoutRed = await search({ text: 'dress -red', k: 20 });
    const rankOfFirstRed = (rs: typeof plain.results) => rs.findIndex((x) => /red/i.test(String(x.meta.title)));
    expect(rankOfFirstRed(withoutRed.results)).toBe(10); // all ten blue dresses come first
    expect(rankOfFirstRed(plain.results)).toBeLessThan(10);
    expect(withoutRed.results[15]!.why.penalised).toEqual(['-red']);
  });

  it('ranks an indexed item as a query image by cosine, itself first, and leaves it out on request', async () => {
    const r = await search({ images: [{ id: id(3) }], k: N });
    expect(r.fusion).toBe('single');
    expect(r.results[0]).toMatchObject({ id: id(3), score: expect.closeTo(1, 5) });
    const expected = vs.map((v, i) => ({ i, s: v.reduce((a, x, j) => a + x * vs[3]![j]!, 0) })).sort((a, b) => b.s - a.s || a.i - b.i);
    expect(r.results.map((x) => x.id)).toEqual(expected.map((e) => id(e.i)));
    r.results.forEach((x, j) => expect(x.score).toBeCloseTo(expected[j]!.s, 5));
    const without = await search({ images: [{ id: id(3) }], k: 5, excludeSelf: true });
    expect(without.results.map((x) => x.id)).toEqual(r.results.slice(1, 6).map((x) => x.id));
  });

  it('pages with offset, and filters before paging', async () => {
    const all = await search({ text: 'red', images: [{ id: id(21) }], k: N });
    const page = await search({ text: 'red', images: [{ id: id(21) }], k: 5, offset: 5 });
    expect(page.results.map((x) => x.id)).toEqual(all.results.slice(5, 10).map((x) => x.id));
    expect(page.results.map((x) => x.rank)).toEqual([6, 7, 8, 9, 10]);
    const cheap = await search({ text: 'red', images: [{ id: id(21) }], k: 12, where: 'price < 25' });
    expect(cheap.results).toHaveLength(12);
    expect(cheap.results.map((x) => x.id)).toEqual(
      all.results
        .filter((x) => Number(x.meta.price) < 25)
        .slice(0, 12)
        .map((x) => x.id),
    );
  });

  it('moves away from a negative image', async () => {
    const plain = await search({ images: [{ id: id(0) }], k: 40 });
    const neighbour = plain.results[1]!;
    const moved = await search({ images: [{ id: id(0) }], notImages: [{ id: neighbour.id }], k: 40 });
    expect(moved.results[0]!.id).toBe(id(0)); // still the image itself first
    const before = plain.results.findIndex((x) => x.id === neighbour.id);
    const after = moved.results.findIndex((x) => x.id === neighbour.id);
    expect(after).toBeGreaterThan(before + 1);
    expect(moved.results[after]!.why.visual).toBeLessThan(neighbour.score);
  });

  it('relevance feedback pulls the ranking towards liked items and away from disliked ones', async () => {
    // Like an item of another cluster: the first results move to that cluster.
    const fb = await search({ like: [id(5), id(35)], unlike: [id(6)], k: 10 });
    const ranked = fb.results.map((x) => x.id);
    expect(ranked).not.toContain(id(35)); // feedback items themselves are not shown again
    expect(ranked).not.toContain(id(6));
    const cluster = (x: string) => Math.floor(parseInt(x, 16) / 10);
    expect(ranked.filter((x) => cluster(x) === 3).length).toBeGreaterThanOrEqual(3);
  });

  it('combines words with an image and a filter by reciprocal-rank fusion', async () => {
    const r = await search({ text: 'shirt', images: [{ id: id(25) }], where: "title LIKE 'Red%'", k: 5 });
    expect(r.fusion).toBe('rrf');
    expect(r.results[0]!.id).toBe(id(25)); // the red shirt that is also the query image
    for (const x of r.results) expect(String(x.meta.title)).toMatch(/^Red/);
    expect(r.results[0]!.why.visual).toBeGreaterThan(0.99);
    expect(r.results[0]!.why.keywords!.words).toEqual(['shirt']);
  });

  it('rejects an empty query, unknown items and weights for no signal', async () => {
    await expect(search({ text: '-red' })).rejects.toMatchObject({ code: 'QUERY_INVALID' });
    await expect(search({ like: ['0'.repeat(32)] })).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(search({ text: 'red', weights: { nonsense: 1 } })).rejects.toMatchObject({ code: 'QUERY_INVALID' });
    await expect(search({ text: 'red', k: 0 })).rejects.toMatchObject({ code: 'QUERY_INVALID' });
  });

  it('takes a new signal as a plug-in: it is fused, weighed by its name and explains itself', async () => {
    // Cheaper items score higher: a signal no engine type knows.
    const cheap: Signal = {
      name: 'cheap',
      async score(ctx) {
        const scores = Float32Array.from(ctx.ids, (x) => -parseInt(x, 16));
        return { contributions: [{ name: 'cheap', scores, weight: ctx.weights.cheap!, polarity: 1 }], report: { name: 'cheap', understood: true } };
      },
      explain: (_ctx, row, outcome) => outcome.contributions[0]!.scores[row],
    };
    signals.push(cheap);
    try {
      const r = await search({ text: 'dress', k: 5, weights: { cheap: 3 } });
      expect(r.signals.map((s) => s.name)).toEqual(['keywords', 'cheap']);
      expect(r.results.map((x) => x.id)).toEqual([0, 1, 2, 3, 4].map(id));
      expect(r.results[0]!.why.cheap).toBe(-0);
      const off = await search({ text: 'evening', k: 5, weights: { cheap: 0 } });
      expect(off.results.every((x) => /Blue/.test(String(x.meta.title)))).toBe(true);
    } finally {
      signals.pop();
    }
  });

  it('takes a stage as a plug-in: it biases the fused scores and re-ranks the head', async () => {
    const boost: Stage = {
      name: 'boost',
      active: (q) => q.stages?.boost === true,
      async bias(ctx, fused) {
        fused[ctx.rowOf.get(id(39))!]! += 10;
      },
      async rerank(_ctx, candidates) {
        candidates.reverse();
      },
      depth: () => 3,
    };
    stages = [boost];
    try {
      const plain = await search({ images: [{ id: id(0) }], k: 3 });
      const boosted = await search({ images: [{ id: id(0) }], k: 3, stages: { boost: true } });
      expect(plain.results.map((x) => x.id)).not.toContain(id(39));
      // id(39) first after the bias, then reversed by the re-ranker: last of the three.
      expect(boosted.results.map((x) => x.id)).toEqual([plain.results[1]!.id, plain.results[0]!.id, id(39)]);
    } finally {
      stages = [];
    }
  });
});
