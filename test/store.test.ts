import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { VisorError } from '../src/errors.js';
import { float16ToFloat32, float32ToFloat16 } from '../src/store/float16.js';
import { LanceStore } from '../src/store/lance-store.js';
import { readManifest, writeManifest } from '../src/store/manifest.js';
import type { ItemWithVectors } from '../src/store/types.js';
import { acquireWriteLock } from '../src/store/write-lock.js';
import { tempDir, lcg, randomUnit } from './fixtures.js';

const DIM = 16;
const CLASSES = 5;

const unit = (r: () => number, dim = DIM) => randomUnit(r, dim);

function item(i: number, vector: Float32Array, meta: ItemWithVectors['meta'] = {}): ItemWithVectors {
  return {
    id: i.toString(16).padStart(32, '0'),
    path: `/photos/${i}.jpg`,
    paths: [`/photos/${i}.jpg`],
    fileSizes: [1000 + i],
    fileMtimes: [1_700_000_000_000 + i],
    width: 640,
    height: 480,
    format: 'jpeg',
    indexedAt: 1,
    meta,
    vector,
    probs: Float32Array.from([0.5, 0.25, 0.125, 0.0625, 0.0625]),
  };
}

const cleanups: Array<() => void> = [];
afterEach(() => cleanups.splice(0).forEach((f) => f()));
function dbDir(): string {
  const t = tempDir('visor-store-');
  cleanups.push(t.cleanup);
  return path.join(t.dir, 'db');
}
const open = (dir: string, extra: Partial<Parameters<typeof LanceStore.open>[1]> = {}) =>
  LanceStore.open(dir, { dimension: DIM, numClasses: CLASSES, imageModel: 'test-model', create: true, ...extra });

describe('float16 conversion', () => {
  it('round-trips probabilities within half-precision error', () => {
    const values = [0, 1, 0.5, 0.1, 0.333, 1e-3, 1e-5, 6e-8, 65504];
    const back = float16ToFloat32(float32ToFloat16(values));
    values.forEach((v, i) => expect(Math.abs(back[i]! - v)).toBeLessThanOrEqual(Math.max(v * 2 ** -10, 6e-8)));
    expect(Array.from(float32ToFloat16([1, -2, 0.5]))).toEqual([0x3c00, 0xc000, 0x3800]); // IEEE 754 bit patterns
  });
});

describe('LanceStore', () => {
  it('stores items, reads them back, and searches exactly with filters and exclusions', async () => {
    const store = await open(dbDir());
    try {
      const r = lcg(1);
      await store.ensureMetaColumns({ category: 'string', price: 'number' });
      const items = Array.from({ length: 50 }, (_, i) => item(i, unit(r), { category: i % 2 ? 'odd' : 'even', price: i }));
      await store.insert(items);
      expect(await store.count()).toBe(50);
      expect(await store.metaColumns()).toEqual({ category: 'string', price: 'number' });

      const [back] = await store.getItemsWithVectors([items[7]!.id]);
      expect(back!.meta).toEqual({ category: 'odd', price: 7 });
      expect(Array.from(back!.vector)).toEqual(Array.from(items[7]!.vector));
      expect(back!.probs[0]).toBeCloseTo(0.5, 3);

      // Exact search: the query is item 7's vector, so item 7 is first with score 1.
      const hits = await store.search(items[7]!.vector, { k: 5 });
      expect(hits[0]!.id).toBe(items[7]!.id);
      expect(hits[0]!.score).toBeCloseTo(1, 5);
      const brute = items
        .map((it) => ({ id: it.id, s: it.vector.reduce((a, x, j) => a + x * items[7]!.vector[j]!, 0) }))
        .sort((a, b) => b.s - a.s)
        .slice(0, 5)
        .map((h) => h.id);
      expect(hits.map((h) => h.id)).toEqual(brute);

      const filtered = await store.search(items[7]!.vector, { k: 50, where: "category = 'even' AND price < 10" });
      expect(filtered.map((h) => Number.parseInt(h.id, 16)).sort((a, b) => a - b)).toEqual([0, 2, 4, 6, 8]);
      const excluded = await store.search(items[7]!.vector, { k: 3, exclude: new Set([items[7]!.id]) });
      expect(excluded.map((h) => h.id)).toEqual(brute.slice(1, 4));

      await expect(store.search(items[7]!.vector, { k: 1, where: 'price = = 3' })).rejects.toMatchObject({ code: 'FILTER_INVALID' });
      await expect(store.search(new Float32Array(3), { k: 1 })).rejects.toMatchObject({ code: 'QUERY_INVALID' });

      // Path lists round-trip; delete removes whole items.
      await store.upsert([{ ...back!, paths: [back!.path, '/copy/7.jpg'], fileSizes: [1007, 1007], fileMtimes: [1, 2] }]);
      const states = (await store.fileStates()).filter((s) => s.id === items[7]!.id);
      expect(states.map((s) => s.path).sort()).toEqual(['/copy/7.jpg', '/photos/7.jpg']);
      await store.deleteItems([items[0]!.id, items[1]!.id]);
      expect(await store.count()).toBe(48);
    } finally {
      await store.close();
    }
  });

  it('scores keyword hits by row id exactly as by item id, across fragments, compaction, updates and deletes', async () => {
    const store = await open(dbDir());
    try {
      const r = lcg(3);
      await store.ensureMetaColumns({ category: 'string' });
      const words = ['red dress', 'blue shirt', 'red shoe', 'green hat'];
      const make = (i: number) => item(i, unit(r), { category: words[i % words.length]! });
      for (let b = 0; b < 3; b++) await store.insert(Array.from({ length: 10 }, (_, i) => make(b * 10 + i)));
      await store.optimize(); // text index built, fragments compacted
      await store.insert(Array.from({ length: 5 }, (_, i) => make(30 + i))); // not yet indexed
      const [moved] = await store.getItemsWithVectors([make(4).id]);
      await store.upsert([{ ...moved!, meta: { category: 'red hat' } }]);
      await store.deleteItems([make(0).id, make(33).id]);
      const { ids } = await store.vectors();
      for (const q of ['red', 'hat', 'blue shirt', 'green', 'purple']) {
        const byId = new Map((await store.keywordSearch(q, { k: 100 })).map((h) => [h.id, h.score]));
        const byRow = (await store.keywordRows(q, 100, ids))!;
        expect(byRow.hits).toBe(byId.size);
        if (q === 'red') expect(byId.size).toBeGreaterThan(10);
        expect(new Map(Array.from(byRow.rows, (row, i) => [ids[row]!, byRow.scores[i]!]))).toEqual(byId);
      }
      expect(await store.keywordRows('red', 100, [...ids])).toBeNull(); // not the vectors in memory
    } finally {
      await store.close();
    }
  });

  it('answers many queries at once with the same ranking as single queries', async () => {
    const store = await open(dbDir());
    try {
      const r = lcg(2);
      const items = Array.from({ length: 200 }, (_, i) => item(i, unit(r)));
      await store.insert(items);
      const queries = new Float32Array(10 * DIM);
      for (let q = 0; q < 10; q++) queries.set(unit(r), q * DIM);
      const batch = await store.searchMany(queries, 10, { k: 7 });
      for (let q = 0; q < 10; q++) {
        const single = await store.search(queries.subarray(q * DIM, (q + 1) * DIM), { k: 7, exact: true });
        const fromBatch = Array.from(batch.rows.subarray(q * 7, (q + 1) * 7), (row) => batch.ids[row]);
        expect(fromBatch).toEqual(single.map((h) => h.id));
      }
    } finally {
      await store.close();
    }
  });

  it('builds an approximate index past its threshold and keeps recall against exact search', async () => {
    const store = await open(dbDir(), { ann: { threshold: 2000, rowsPerPartition: 2000 } });
    try {
      const r = lcg(3);
      const items = Array.from({ length: 3000 }, (_, i) => item(i, unit(r)));
      for (let i = 0; i < items.length; i += 1000) await store.insert(items.slice(i, i + 1000));
      expect((await store.stats()).annIndex).toBeNull();
      await store.optimize();
      const ann = (await store.stats()).annIndex;
      expect(ann).not.toBeNull();
      expect(ann!.indexedRows).toBe(3000);
      let found = 0;
      for (let q = 0; q < 20; q++) {
        const query = unit(r);
        const exact = new Set((await store.search(query, { k: 10, exact: true })).map((h) => h.id));
        const approx = await store.search(query, { k: 10 });
        found += approx.filter((h) => exact.has(h.id)).length;
        // Re-scored exactly: approximate results carry true cosine scores, best first.
        for (const h of approx) {
          const v = items[Number.parseInt(h.id, 16)]!.vector;
          expect(h.score).toBeCloseTo(
            v.reduce((a, x, j) => a + x * query[j]!, 0),
            4,
          );
        }
      }
      expect(found / 200).toBeGreaterThanOrEqual(0.9);
      // More results than the HNSW breadth, with exclusions (LanceDB needs ef ≥ k × refine).
      const query = unit(r);
      const many = await store.search(query, { k: 25, exclude: new Set([items[0]!.id]) });
      expect(many).toHaveLength(25);
      const exact = (await store.search(query, { k: 25, exact: true, exclude: new Set([items[0]!.id]) })).map((h) => h.id);
      expect(many.filter((h) => exact.includes(h.id)).length).toBeGreaterThanOrEqual(22);
    } finally {
      await store.close();
    }
  });

  it('refuses an index made for another model, a newer schema, or a folder that is not an index', async () => {
    const dir = dbDir();
    await (await open(dir)).close();
    await expect(open(dir, { imageModel: 'other', dimension: 32 })).rejects.toMatchObject({ code: 'INDEX_INCOMPATIBLE' });
    const m = readManifest(dir)!;
    writeManifest(dir, { ...m, schemaVersion: m.schemaVersion + 1 });
    await expect(open(dir)).rejects.toThrow(/upgrade Visor/);

    const missing = path.join(path.dirname(dir), 'nothing-here');
    await expect(open(missing, { create: false })).rejects.toMatchObject({ code: 'INDEX_EMPTY' });
    const notIndex = path.join(path.dirname(dir), 'photos');
    fs.mkdirSync(notIndex);
    fs.writeFileSync(path.join(notIndex, 'a.jpg'), 'x');
    await expect(open(notIndex)).rejects.toBeInstanceOf(VisorError);
    expect(fs.readdirSync(notIndex)).toEqual(['a.jpg']); // nothing written into the user's folder

    // A --db that runs through a file is named as such, not ENOTDIR from deep inside.
    const file = path.join(notIndex, 'a.jpg');
    for (const db of [file, path.join(file, 'db')]) {
      await expect(open(db)).rejects.toMatchObject({
        code: 'INDEX_INCOMPATIBLE',
        message: expect.stringMatching(/is not a folder \(its path runs through a file\)/) as string,
      });
    }

    // A damaged manifest (a disk error, an editor) is named, not a bare JSON.parse message.
    for (const text of ['{"format": "visor-in', 'null', '[1]']) {
      fs.writeFileSync(path.join(dir, 'visor.json'), text);
      await expect(open(dir), text).rejects.toMatchObject({
        code: 'INDEX_INCOMPATIBLE',
        message: expect.stringMatching(/visor\.json (is damaged|is not a Visor index manifest)/) as string,
      });
    }
  });
});

describe('write lock', () => {
  it('admits one writer and takes over a lock left by a dead process', () => {
    const dir = dbDir();
    const release = acquireWriteLock(dir);
    fs.writeFileSync(path.join(dir, 'write.lock'), String(process.ppid)); // a live process that is not us
    expect(() => acquireWriteLock(dir)).toThrow(/being written by process/);
    fs.writeFileSync(path.join(dir, 'write.lock'), '999999999'); // no such pid
    const again = acquireWriteLock(dir);
    again();
    expect(fs.existsSync(path.join(dir, 'write.lock'))).toBe(false);
    release();
  });
});
