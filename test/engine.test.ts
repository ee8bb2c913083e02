import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Collection } from '../src/collection.js';
import { parseQueryText } from '../src/search/query.js';
import { copyFlickrTestImages, tempDir } from './fixtures.js';

describe('parseQueryText', () => {
  it('separates negative terms and keeps quoted phrases', () => {
    expect(parseQueryText('dog -grass "golden retriever" -"green field"  beach')).toEqual({
      positive: ['dog', 'golden retriever', 'beach'],
      negative: ['grass', 'green field'],
    });
    expect(parseQueryText('  ')).toEqual({ positive: [], negative: [] });
  });

});

describe('search engine: words, images, negatives, feedback', () => {
  const tmp = tempDir('visor-engine-');
  let c: Collection;
  let files: string[];
  let ids: string[];

  beforeAll(async () => {
    const photos = path.join(tmp.dir, 'photos');
    files = copyFlickrTestImages(40, photos);
    // Titles: items 0–9 red dresses, 10–19 blue dresses, 20–29 red shirts, the rest untitled.
    const title = (i: number) => (i < 10 ? 'Red summer dress' : i < 20 ? 'Blue evening dresses' : i < 30 ? 'Red cotton shirt' : '');
    fs.writeFileSync(
      path.join(tmp.dir, 'shop.csv'),
      ['file,title', ...files.map((f, i) => `photos/${path.basename(f)},${title(i)}`)].join('\n'),
    );
    c = await Collection.open({ db: path.join(tmp.dir, 'db'), create: true });
    await c.index([path.join(tmp.dir, 'shop.csv')]);
    const states = await c.store.fileStates();
    ids = files.map((f) => states.find((s) => s.path === f)!.id);
  });
  afterAll(async () => {
    await c.close();
    tmp.cleanup();
  });

  it('finds catalogue words with stemming and says which words matched', async () => {
    const r = await c.search({ text: 'dress', k: 30 });
    expect(r.understood).toBe(true);
    expect(r.results).toHaveLength(20); // only items with evidence are returned
    for (const x of r.results) {
      expect(String(x.meta.title)).toMatch(/dress/i);
      expect(x.why.keywords!.words).toEqual(['dress']);
    }
  });

  it('answers a query nothing understands with an explanation, not noise', async () => {
    const r = await c.search({ text: 'qwxz' });
    expect(r.understood).toBe(false);
    expect(r.results).toEqual([]);
    expect(r.message).toMatch(/nothing in this collection matches "qwxz"/);
    expect(r.signals.find((s) => s.name === 'keywords')).toMatchObject({ understood: false });
  });

  it('explains a word written many times once per result (a 1,000-character query stays a small answer)', async () => {
    const r = await c.search({ text: 'dress '.repeat(166), k: 10 });
    expect(r.results.length).toBeGreaterThan(0);
    for (const x of r.results) {
      expect(x.why.concepts?.length ?? 0).toBeLessThanOrEqual(1);
      if (x.why.keywords) expect(x.why.keywords.words).toEqual(['dress']);
    }
    expect(JSON.stringify(r).length).toBeLessThan(20_000);
  });

  it('demotes negative words', async () => {
    const plain = await c.search({ text: 'dress', k: 20 });
    const withoutRed = await c.search({ text: 'dress -red', k: 20 });
    const rankOfFirstRed = (rs: typeof plain.results) => rs.findIndex((x) => /red/i.test(String(x.meta.title)));
    expect(rankOfFirstRed(withoutRed.results)).toBe(10); // all ten blue dresses come first
    expect(rankOfFirstRed(plain.results)).toBeLessThan(10);
    expect(withoutRed.results[15]!.why.penalised).toEqual(['-red']);
  });

  it('moves away from a negative image', async () => {
    const plain = await c.search({ images: [files[0]!], k: 40 });
    const neighbour = plain.results[1]!;
    const moved = await c.search({ images: [files[0]!], notImages: [neighbour.path], k: 40 });
    expect(moved.results[0]!.path).toBe(files[0]); // still the image itself first
    const before = plain.results.findIndex((x) => x.id === neighbour.id);
    const after = moved.results.findIndex((x) => x.id === neighbour.id);
    expect(after).toBeGreaterThan(before + 3);
  });

  it('relevance feedback pulls the ranking towards liked items and away from disliked ones', async () => {
    const base = await c.search({ images: [files[5]!], k: 10, excludeSelf: true });
    const liked = base.results[6]!.id;
    const disliked = base.results[0]!.id;
    const fb = await c.search({ like: [ids[5]!, liked], unlike: [disliked], k: 10 });
    const ranked = fb.results.map((x) => x.id);
    expect(ranked).not.toContain(liked); // feedback items themselves are not shown again
    expect(ranked).not.toContain(disliked);
    // Items near the liked one rise: compare their mean visual similarity to it.
    const simTo = async (id: string, list: string[]) => {
      const near = await c.searchSimilar(id, { k: 40 });
      const score = new Map(near.map((x) => [x.id, x.score]));
      return list.reduce((a, x) => a + (score.get(x) ?? 0), 0) / list.length;
    };
    const baseList = base.results.map((x) => x.id).filter((x) => x !== liked && x !== disliked);
    expect(await simTo(liked, ranked)).toBeGreaterThan(await simTo(liked, baseList));
  });

  it('combines words with an image and a filter', async () => {
    // Concepts off: this checks how keywords, image and filter combine (concepts have their own tests).
    const r = await c.search({ text: 'shirt', images: [files[25]!], where: "title LIKE 'Red%'", k: 5, weights: { concepts: 0 } });
    expect(r.fusion).toBe('rrf');
    expect(r.results[0]!.path).toBe(files[25]); // the red shirt that is also the query image
    for (const x of r.results) expect(String(x.meta.title)).toMatch(/^Red/);
    expect(r.results[0]!.why.visual).toBeGreaterThan(0.99);
    expect(r.results[0]!.why.keywords!.words).toEqual(['shirt']);
  });

  it('rejects an empty query and unknown items', async () => {
    await expect(c.search({ text: '-red' })).rejects.toMatchObject({ code: 'QUERY_INVALID' });
    await expect(c.search({ like: ['0'.repeat(32)] })).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });
});
