/** Further embedding spaces in the store: persistence, exact and ANN search, filters, cascades. */
import path from 'node:path';
import * as lancedb from '@lancedb/lancedb';
import { afterEach, describe, expect, it } from 'vitest';
import { LanceStore } from '../src/store/lance-store.js';
import { readManifest } from '../src/store/manifest.js';
import type { ItemWithVectors } from '../src/store/types.js';
import { tempDir, lcg, randomUnit } from './fixtures.js';

const DIM = 8;
const SPACE_DIM = 24;

const idOf = (i: number) => i.toString(16).padStart(32, '0');

function item(i: number, r: () => number): ItemWithVectors {
  return {
    id: idOf(i),
    path: `/photos/${i}.jpg`,
    paths: [`/photos/${i}.jpg`],
    fileSizes: [1000],
    fileMtimes: [1],
    width: 10,
    height: 10,
    format: 'jpeg',
    indexedAt: 1,
    meta: { category: i % 2 ? 'odd' : 'even' },
    vector: randomUnit(r, DIM),
    probs: Float32Array.from([0.5, 0.5]),
  };
}

const cleanups: Array<() => void> = [];
afterEach(() => cleanups.splice(0).forEach((f) => f()));

/** Exhaustive float64 cosine ranking: what searchSpace must return. */
function brute(q: Float32Array, vecs: Map<string, Float32Array>, keep: (id: string) => boolean = () => true) {
  return [...vecs]
    .filter(([id]) => keep(id))
    .map(([id, v]) => ({ id, score: v.reduce((a, x, j) => a + x * q[j]!, 0) }))
    .sort((a, b) => b.score - a.score);
}

describe('embedding spaces', () => {
  it('are recorded in the manifest, searched exactly (filters, exclusions), deleted with their items, and reopen', async () => {
    const t = tempDir('visor-spaces-');
    cleanups.push(t.cleanup);
    const dir = path.join(t.dir, 'db');
    const r = lcg(7);
    let store = await LanceStore.open(dir, { dimension: DIM, numClasses: 2, imageModel: 'm', create: true });
    const items = Array.from({ length: 40 }, (_, i) => item(i, r));
    await store.ensureMetaColumns({ category: 'string' });
    await store.insert(items);
    await store.ensureSpace('clip-x', { model: 'clip-x', dimension: SPACE_DIM });
    const vecs = new Map(items.slice(0, 30).map((it) => [it.id, randomUnit(r, SPACE_DIM)])); // 10 items not embedded yet
    const matrix = new Float32Array(30 * SPACE_DIM);
    [...vecs.values()].forEach((v, i) => matrix.set(v, i * SPACE_DIM));
    await store.addSpaceVectors('clip-x', [...vecs.keys()], matrix);

    expect(readManifest(dir)!.spaces).toEqual({ 'clip-x': { model: 'clip-x', dimension: SPACE_DIM, createdAt: expect.any(String) } });
    await expect(store.ensureSpace('clip-x', { model: 'clip-x', dimension: 16 })).rejects.toMatchObject({ code: 'INDEX_INCOMPATIBLE' });
    await expect(store.ensureSpace('Bad Name', { model: 'x', dimension: 4 })).rejects.toMatchObject({ code: 'QUERY_INVALID' });

    const q = randomUnit(r, SPACE_DIM);
    const hits = await store.searchSpace('clip-x', q, { k: 5 });
    const want = brute(q, vecs);
    expect(hits.map((h) => h.id)).toEqual(want.slice(0, 5).map((w) => w.id));
    expect(Math.max(...hits.map((h, i) => Math.abs(h.score - want[i]!.score)))).toBeLessThan(1e-6);
    const even = (id: string) => parseInt(id, 16) % 2 === 0;
    const filtered = await store.searchSpace('clip-x', q, { k: 5, where: "category = 'even'", exclude: new Set([want.find((w) => even(w.id))!.id]) });
    expect(filtered.map((h) => h.id)).toEqual(
      brute(q, vecs, even)
        .slice(1, 6)
        .map((w) => w.id),
    );

    // Scores aligned with the items table; items without a vector in the space are NaN.
    const scored = await store.scoreSpace('clip-x', q);
    scored.ids.forEach((id, i) => {
      const v = vecs.get(id);
      if (v)
        expect(scored.scores[i]).toBeCloseTo(
          v.reduce((a, x, j) => a + x * q[j]!, 0),
          5,
        );
      else expect(scored.scores[i]).toBeNaN();
    });

    await store.deleteItems([idOf(0), idOf(1), idOf(35)]);
    expect((await store.spaceIds('clip-x')).size).toBe(28);
    await store.close();

    store = await LanceStore.open(dir, { dimension: DIM, numClasses: 2, imageModel: 'm', create: false });
    expect(store.spaces()).toEqual([{ name: 'clip-x', model: 'clip-x', dimension: SPACE_DIM, createdAt: expect.any(String) }]);
    expect((await store.searchSpace('clip-x', q, { k: 3 })).map((h) => h.id)).toEqual(
      brute(q, vecs, (id) => ![idOf(0), idOf(1)].includes(id))
        .slice(0, 3)
        .map((w) => w.id),
    );
    await expect(store.searchSpace('nope', q, { k: 3 })).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await store.close();
  });

  it('build an ANN index past the threshold and answer approximately, close to the exact answer', async () => {
    const t = tempDir('visor-spaces-ann-');
    cleanups.push(t.cleanup);
    const r = lcg(11);
    const n = 600;
    const store = await LanceStore.open(path.join(t.dir, 'db'), {
      dimension: DIM,
      numClasses: 2,
      imageModel: 'm',
      create: true,
      ann: { threshold: 500, rowsPerPartition: 300 },
    });
    try {
      const items = Array.from({ length: n }, (_, i) => item(i, r));
      await store.insert(items);
      await store.ensureSpace('s', { model: 's', dimension: SPACE_DIM });
      const vecs = new Map(items.map((it) => [it.id, randomUnit(r, SPACE_DIM)]));
      const matrix = new Float32Array(n * SPACE_DIM);
      [...vecs.values()].forEach((v, i) => matrix.set(v, i * SPACE_DIM));
      await store.addSpaceVectors('s', [...vecs.keys()], matrix);
      // An orphan (its item gone while the space was being written) is dropped by optimize().
      await store.addSpaceVectors('s', [idOf(n + 1)], randomUnit(r, SPACE_DIM));
      await store.optimize();
      expect((await store.spaceIds('s')).has(idOf(n + 1))).toBe(false);
      const db = await lancedb.connect(path.join(t.dir, 'db'));
      expect((await (await db.openTable('space_s')).listIndices()).map((i) => i.columns)).toEqual([['vector']]);
      db.close();
      let recall = 0;
      for (let qn = 0; qn < 10; qn++) {
        const q = randomUnit(r, SPACE_DIM);
        const exact = brute(q, vecs)
          .slice(0, 10)
          .map((w) => w.id);
        const ann = (await store.searchSpace('s', q, { k: 10 })).map((h) => h.id);
        const forced = (await store.searchSpace('s', q, { k: 10, exact: true })).map((h) => h.id);
        expect(forced).toEqual(exact);
        recall += ann.filter((id) => exact.includes(id)).length / 10;
      }
      expect(recall / 10).toBeGreaterThan(0.9);
    } finally {
      await store.close();
    }
  });
});
