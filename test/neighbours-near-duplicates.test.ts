import fs from 'node:fs';
import path from 'node:path';
import sharp, { type Sharp } from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Collection } from '../src/collection.js';
import { copyFlickrTestImages, tempDir } from './fixtures.js';

/** Edits a user makes to a photo before searching with it: each must still find the original first. */
const EDITS: Array<{ name: string; edit: (img: Sharp, w: number, h: number) => Sharp }> = [
  {
    name: 'crop',
    edit: (img, w, h) => img.extract({ left: Math.round(w * 0.1), top: Math.round(h * 0.1), width: Math.round(w * 0.8), height: Math.round(h * 0.8) }),
  },
  { name: 'resize', edit: (img, w) => img.resize(Math.round(w / 2)) },
  { name: 'brightness', edit: (img) => img.modulate({ brightness: 1.3 }) },
  { name: 'flip', edit: (img) => img.flop() },
  { name: 're-encode', edit: (img) => img.jpeg({ quality: 30 }) },
];

describe('re-ranking and near-duplicate search', () => {
  const t = tempDir('visor-neardup-');
  let collection: Collection;
  let originals: string[];

  beforeAll(async () => {
    originals = copyFlickrTestImages(120, path.join(t.dir, 'images'));
    collection = await Collection.open({ db: path.join(t.dir, 'db'), create: true });
    // The collection's image queries re-rank by diffusion from now on: indexing builds the graph.
    const summary = await collection.index([path.join(t.dir, 'images')], { imageRerank: 'diffusion' });
    expect(summary.graph).toMatchObject({ how: 'built', items: 120 });
  }, 300_000);

  afterAll(async () => {
    await collection?.close();
    t.cleanup();
  });

  it('an edited copy finds its original first as often with the stage as without', async () => {
    const { results: probe } = await collection.search({ images: [originals[0]!], k: 1 });
    let firstWithout = 0;
    let firstWith = 0;
    let queries = 0;
    for (const file of originals.slice(0, 24)) {
      const { width, height } = await sharp(file).metadata();
      for (const { edit } of EDITS) {
        const bytes = await edit(sharp(fs.readFileSync(file)), width!, height!)
          .jpeg()
          .toBuffer();
        const without = await collection.search({ images: [bytes], k: 3, stages: { neighbours: false } });
        const withStage = await collection.search({ images: [bytes], k: 3, stages: { neighbours: { method: 'diffusion' } } });
        expect(withStage.stages).toMatchObject({ neighbours: { method: 'diffusion' } });
        if (without.results[0]?.path === file) firstWithout++;
        if (withStage.results[0]?.path === file) firstWith++;
        queries++;
      }
    }
    expect(probe[0]!.path).toBe(originals[0]);
    expect(firstWithout / queries).toBeGreaterThan(0.8); // the edits are near-duplicates to begin with
    expect(firstWith).toBeGreaterThanOrEqual(firstWithout);
  }, 300_000);

  it("re-ranks image queries by the collection's default, and a query can switch it off or choose another method", async () => {
    const q = { images: [originals[5]!], k: 20 };
    const byDefault = await collection.search(q);
    expect(byDefault.stages).toMatchObject({ neighbours: { method: 'diffusion' } });
    const off = await collection.search({ ...q, stages: { neighbours: false } });
    expect(off.stages).toBeUndefined();
    const qe = await collection.search({ ...q, stages: { neighbours: { method: 'qe' } } });
    expect(qe.stages).toMatchObject({ neighbours: { method: 'qe' } });
    // The same items come back in the first 20 either way only by chance: the orders differ.
    expect(byDefault.results.map((r) => r.id)).not.toEqual(off.results.map((r) => r.id));
    expect(byDefault.results[0]!.path).toBe(originals[5]);
    // Words are not re-ranked unless asked (pseudo-relevance feedback is off by default).
    const words = await collection.search({ text: 'dog', k: 5 });
    expect(words.stages).toBeUndefined();
  }, 120_000);

  it('a collection set to no re-ranking ranks image queries by cosine, and back', async () => {
    const q = { images: [originals[5]!], k: 20 };
    await collection.index([path.join(t.dir, 'images')], { imageRerank: 'none' });
    expect((await collection.neighbourGraph()).defaults()).toEqual({ image: 'none', text: 'none' });
    const plain = await collection.search(q);
    expect(plain.stages).toBeUndefined();
    const scores = plain.results.map((r) => r.score);
    expect(scores).toEqual([...scores].sort((a, b) => b - a));
    await collection.index([path.join(t.dir, 'images')], { imageRerank: 'diffusion' });
    expect((await collection.search(q)).stages).toMatchObject({ neighbours: { method: 'diffusion' } });
  }, 120_000);
});
