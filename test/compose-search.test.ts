import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Collection } from '../src/collection.js';
import { conceptTextVector } from '../src/search/signals/composed-scores.js';
import { trainComposition } from '../lab/train/compose/train-composition.js';
import { copyFlickrTestImages, tempDir, visor } from './fixtures.js';

describe('composed queries, negative terms and feedback in a collection', () => {
  const tmp = tempDir('visor-compose-search-');
  const db = path.join(tmp.dir, 'db');
  let c: Collection;
  let files: string[];
  let ids: string[];
  /** Probability mass each item (by id) puts on dog classes, from the index's own class probabilities. */
  let dogMass: Map<string, number>;
  let reference: string;

  beforeAll(async () => {
    const photos = path.join(tmp.dir, 'photos');
    files = copyFlickrTestImages(40, photos);
    // Titles: the first 20 "Red …", the rest "Blue …", for negative words.
    fs.writeFileSync(
      path.join(tmp.dir, 'shop.csv'),
      ['file,title', ...files.map((f, i) => `photos/${path.basename(f)},${i < 20 ? 'Red' : 'Blue'} item ${i}`)].join('\n'),
    );
    c = await Collection.open({ db, create: true });
    await c.index([path.join(tmp.dir, 'shop.csv')]);
    const states = await c.store.fileStates();
    ids = files.map((f) => states.find((s) => s.path === f)!.id);
    const probs = await c.store.probabilities();
    const dog = await conceptTextVector('dog', probs.classes);
    expect(dog.used).toEqual(['dog']);
    dogMass = new Map(
      probs.ids.map((id, r) => {
        let m = 0;
        for (let k = 0; k < probs.classes; k++) m += dog.vector[k]! * probs.matrix[r * probs.classes + k]!;
        return [id, m];
      }),
    );
    // The reference: an image with (almost) no dog in it.
    reference = files[ids.indexOf([...dogMass].sort((a, b) => a[1] - b[1])[0]![0])]!;
  });
  afterAll(async () => {
    await c?.close();
    tmp.cleanup();
  });

  const meanDog = (rs: Array<{ id: string }>) => rs.reduce((a, r) => a + dogMass.get(r.id)!, 0) / rs.length;

  it('library: a zero-shot composed query moves the reference towards what the text names', async () => {
    const plain = await c.search({ images: [reference], k: 5, excludeSelf: true });
    const composed = await c.search({ images: [reference], compose: { text: 'with a dog' }, k: 5, excludeSelf: true });
    expect(composed.signals.find((s) => s.name === 'composed')).toMatchObject({ understood: true, note: 'zero-shot' });
    expect(composed.results[0]!.why.composed).toBeGreaterThan(0);
    expect(meanDog(composed.results)).toBeGreaterThan(meanDog(plain.results) + 0.2);
    // The weight is the dial between the two: at 0 the query is the image alone.
    const none = await c.search({ images: [reference], compose: { text: 'with a dog', weight: 0 }, k: 5, excludeSelf: true });
    expect(none.results.map((r) => r.id)).toEqual(plain.results.map((r) => r.id));
    await expect(c.search({ compose: { text: 'with a dog' } })).rejects.toMatchObject({ code: 'QUERY_INVALID' });
  });

  it('library: a negative word in a composed query demotes the items it matches', async () => {
    const composed = await c.search({ images: [reference], compose: { text: 'with a dog' }, k: 40, excludeSelf: true });
    const noRed = await c.search({ images: [reference], compose: { text: 'with a dog -red' }, k: 40, excludeSelf: true });
    const redRanks = (rs: typeof composed.results) => rs.flatMap((r, i) => (/^Red/.test(String(r.meta.title)) ? [i] : []));
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    expect(mean(redRanks(noRed.results))).toBeGreaterThan(mean(redRanks(composed.results)) + 5);
    expect(noRed.results.at(-1)!.why.penalised).toEqual(['-red']);
  });

  it('library: a trained mobilenet-pooled model composes over the vectors the index stores', async () => {
    // Toy triplets over the indexed photos (the mechanics, not the quality: see compose.test.ts).
    const triplets = files.slice(0, 32).map((f, i) => ({ reference: f, text: i % 2 ? 'more red' : 'more blue', target: files[(i + 1) % 32]! }));
    const model = await trainComposition(triplets, { encoder: 'mobilenet-pooled', epochs: 2, batchSize: 16, dim: 64 });
    try {
      const file = path.join(tmp.dir, 'toy.compose');
      model.save(file);
      for (const m of [model, file]) {
        const r = await c.search({ images: [files[3]!], compose: { text: 'more red', model: m }, k: 5 });
        expect(r.signals.find((s) => s.name === 'composed')).toMatchObject({ understood: true, note: 'trained' });
        expect(r.results).toHaveLength(5);
        expect(Math.abs(r.results[0]!.why.composed!)).toBeLessThanOrEqual(1.0001);
      }
      const pixels = await trainComposition(triplets.slice(0, 8), { encoder: 'cnn', epochs: 1, batchSize: 8, dim: 16 });
      await expect(c.search({ images: [files[3]!], compose: { text: 'more red', model: pixels }, k: 5 })).rejects.toThrow(/mobilenet-pooled/);
      pixels.dispose();
    } finally {
      model.dispose();
    }
  });

  it('CLI: --image with --text is a composed query; --more-like/--less-like move the ranking', () => {
    const plain = JSON.parse(visor(['--db', db, 'search', '--image', reference, '--exclude-self', '-k', '5', '--json']).stdout);
    const r = visor(['--db', db, 'search', '--image', reference, '--text', 'with a dog', '--exclude-self', '-k', '5', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.query.compose).toMatchObject({ text: 'with a dog' });
    expect(meanDog(out.results)).toBeGreaterThan(meanDog(plain.results) + 0.2);
    const table = visor(['--db', db, 'search', '--image', reference, '--text', 'with a dog', '-k', '2']);
    expect(table.stdout).toMatch(/composed \d\.\d\d/);

    // Feedback: liking the top dog result pulls dogs up; disliking it pushes them down.
    const dogId = [...dogMass].sort((a, b) => b[1] - a[1])[0]![0];
    const search = (extra: string[]) =>
      JSON.parse(visor(['--db', db, 'search', '--image', reference, '-k', '10', '--exclude-self', '--json', ...extra]).stdout).results;
    const base = search([]);
    const more = search(['--more-like', dogId]);
    const less = search(['--less-like', dogId]);
    expect(more.map((x: { id: string }) => x.id)).not.toContain(dogId);
    expect(meanDog(more)).toBeGreaterThan(meanDog(base));
    expect(meanDog(less)).toBeLessThanOrEqual(meanDog(base));

    const bad = visor(['--db', db, 'search', 'dog', '--compose-weight', '2']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/need a composed query/);
  });
});
