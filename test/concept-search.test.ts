import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Collection } from '../src/collection.js';
import { ConceptSignal } from '../src/search/signals/concepts.js';
import { CLI, FLICKR_TEST_IMAGES, ROOT, SHARED, tempDir } from './fixtures.js';

/** Flickr8k test images whose five captions all mention a dog, and images none of whose captions do. */
function dogsAndOthers(dogs: number, others: number): { dogs: string[]; others: string[] } {
  const rows = parse(fs.readFileSync(path.join(SHARED, 'datasets', 'flickr8k-test1k', 'captions_test1k.csv'), 'utf8'), { columns: true }) as Array<{
    image: string;
    caption: string;
  }>;
  const byImage = new Map<string, string[]>();
  for (const r of rows) byImage.set(r.image, [...(byImage.get(r.image) ?? []), r.caption.toLowerCase()]);
  const names = [...byImage.keys()].sort();
  const mentions = (caps: string[]) => caps.map((c) => /\b(dog|dogs|puppy|puppies)\b/.test(c));
  return {
    dogs: names
      .filter((n) => mentions(byImage.get(n)!).every(Boolean))
      .slice(0, dogs)
      .map((n) => path.join(FLICKR_TEST_IMAGES, n)),
    others: names
      .filter((n) => !mentions(byImage.get(n)!).some(Boolean) && !/animal|cat|horse|cow|sheep/.test(byImage.get(n)!.join(' ')))
      .slice(0, others)
      .map((n) => path.join(FLICKR_TEST_IMAGES, n)),
  };
}

describe('text search through visual concepts (WordNet over the image model classes)', () => {
  const tmp = tempDir('visor-concepts-');
  let c: Collection;
  let dogs: Set<string>;
  let files: string[];
  const db = path.join(tmp.dir, 'db');

  beforeAll(async () => {
    const picked = dogsAndOthers(15, 45);
    const photos = path.join(tmp.dir, 'photos');
    fs.mkdirSync(photos);
    files = [...picked.dogs, ...picked.others].map((f) => {
      const dest = path.join(photos, path.basename(f));
      fs.copyFileSync(f, dest);
      return dest;
    });
    dogs = new Set(files.slice(0, picked.dogs.length));
    // A catalogue: every third image is "on sale", with a year column to filter on.
    fs.writeFileSync(
      path.join(tmp.dir, 'shop.csv'),
      ['file,title,year', ...files.map((f, i) => `photos/${path.basename(f)},${i % 3 === 0 ? 'Summer sale' : 'Archive'},${2015 + (i % 10)}`)].join('\n'),
    );
    c = await Collection.open({ db, create: true });
    await c.index([path.join(tmp.dir, 'shop.csv')]);
  });
  afterAll(async () => {
    await c.close();
    tmp.cleanup();
  });

  const dogShare = (paths: string[]) => paths.filter((p) => dogs.has(p)).length / paths.length;

  it('finds dogs with the word "dog" (its 118 breeds), and says which concept matched', async () => {
    const r = await c.search({ text: 'dog', k: 10 });
    expect(r.understood).toBe(true);
    expect(dogShare(r.results.map((x) => x.path))).toBeGreaterThanOrEqual(0.8);
    const why = r.results[0]!.why.concepts!;
    expect(why[0]).toMatchObject({ term: 'dog', concept: 'dog' });
    expect(why[0]!.top.length).toBeGreaterThan(0);
    // A plural and a hypernym reach the same images.
    const dogsPlural = await c.search({ text: 'dogs', k: 10 });
    expect(dogShare(dogsPlural.results.map((x) => x.path))).toBeGreaterThanOrEqual(0.8);
  });

  it('answers an unknown word with an explanation, and names the word it skipped in a mixed query', async () => {
    const r = await c.search({ text: 'qwxz' });
    expect(r.understood).toBe(false);
    expect(r.results).toEqual([]);
    expect(r.message).toMatch(/qwxz/);
    const mixed = await c.search({ text: 'qwxz dog', k: 5 });
    expect(mixed.understood).toBe(true);
    expect(mixed.signals.find((s) => s.name === 'concepts')!.note).toMatch(/no visual concept for "qwxz"/);
    expect(dogShare(mixed.results.map((x) => x.path))).toBeGreaterThanOrEqual(0.8);
  });

  it('reads verbs, adjectives and function words as no concept', async () => {
    const { signal } = await c.conceptModel();
    const { terms, unknown } = signal.interpret(['a', 'black', 'dog', 'is', 'running', 'on', 'the', 'beach']);
    expect(terms.map((t) => t.term)).toEqual(['dog', 'beach']);
    expect(unknown).toEqual(['a', 'black', 'is', 'running', 'on', 'the']);
  });

  it('reads a noun written again once, remembering each place it was written', async () => {
    const { signal } = await c.conceptModel();
    const r = signal.interpret(['dog', 'and', 'cat', 'and', 'dogs', 'dog']);
    expect(r.terms.map((t) => t.term)).toEqual(['dog', 'cat']);
    expect(r.occurrences).toEqual([0, 1, 0, 0]);
    const many = await c.search({ text: 'dog '.repeat(250), k: 10 });
    for (const x of many.results) expect(x.why.concepts?.map((t) => t.concept)).toEqual(['dog']);
  });

  it('demotes images matching a negative term', async () => {
    const all = await c.search({ text: 'animal', k: 15 });
    const notDogs = await c.search({ text: 'animal -dog', k: 15 });
    expect(dogShare(notDogs.results.map((x) => x.path))).toBeLessThan(dogShare(all.results.map((x) => x.path)));
    expect(notDogs.results.some((x) => x.why.penalised?.includes('-dog'))).toBe(true);
  });

  it('combines catalogue keywords and filters with concepts', async () => {
    const r = await c.search({ text: 'dog sale', where: 'year >= 2020', k: 5 });
    for (const x of r.results) expect(Number(x.meta.year)).toBeGreaterThanOrEqual(2020);
    // The best results are dogs that are also on sale: both signals agree on them.
    const top = r.results[0]!;
    expect(dogs.has(top.path)).toBe(true);
    expect(top.meta.title).toBe('Summer sale');
    expect(top.why.keywords!.words).toEqual(['sale']);
    expect(top.why.concepts![0]!.concept).toBe('dog');
  });

  it('expands a one-concept query with a visual query centred on the collection: a shift shared by every feature changes nothing', async () => {
    // Post-ReLU features share a large positive component; a query that kept it would rank by it.
    const { space } = await c.conceptModel();
    const { ids, matrix } = await c.store.vectors();
    const dim = matrix.length / ids.length;
    const shifted = matrix.map((x, i) => x + 0.05 * ((i % dim) % 7));
    const signalOver = (m: Float32Array) =>
      new ConceptSignal(
        space,
        c.store,
        {},
        async () => ({ ids, matrix: m }),
        async (q) => ({
          scores: Float32Array.from(ids, (_, r) => q.reduce((a, v, d) => a + v * m[r * dim + d]!, 0)),
        }),
      );
    const plain = (await signalOver(matrix).score(['dog'], ids))!.scores;
    const moved = (await signalOver(shifted).score(['dog'], ids))!.scores;
    const noExpansion = (await new ConceptSignal(space, c.store, { expansion: false }).score(['dog'], ids))!.scores;
    expect(plain.some((x, i) => Math.abs(x - noExpansion[i]!) > 0.1)).toBe(true); // expansion is on
    for (let i = 0; i < ids.length; i++) expect(moved[i]).toBeCloseTo(plain[i]!, 3);
  });

  it('tags an image with its class and broader concepts, from a file or an indexed id', async () => {
    const dog = [...dogs][0]!;
    const tags = await c.tags(dog, { k: 5 });
    expect(tags.length).toBeGreaterThan(0);
    expect(tags.map((t) => t.label)).toContain('dog');
    for (const t of tags) expect(t.confidence).toBeGreaterThan(0);
    const id = (await c.store.fileStates()).find((s) => s.path === dog)!.id;
    // Stored probabilities are half precision: same tags, confidences equal to ~3 digits.
    const stored = await c.tags({ id }, { k: 5 });
    expect(stored.map((t) => t.label)).toEqual(tags.map((t) => t.label));
    stored.forEach((t, i) => expect(t.confidence).toBeCloseTo(tags[i]!.confidence, 2));
  });

  it('tags images from the command line, with --json', () => {
    const dog = [...dogs][0]!;
    const r = spawnSync(process.execPath, [CLI, 'tags', dog, '--json'], { cwd: ROOT, encoding: 'utf8' });
    expect(r.status).toBe(0);
    const out = JSON.parse(r.stdout) as Array<{ image: string; tags: Array<{ label: string }> }>;
    expect(out[0]!.tags.map((t) => t.label)).toContain('dog');
    const missing = spawnSync(process.execPath, [CLI, 'tags', path.join(tmp.dir, 'nope.jpg')], { cwd: ROOT, encoding: 'utf8' });
    expect(missing.status).toBe(2);
    expect(missing.stderr).toMatch(/no such file/);
  });
});
