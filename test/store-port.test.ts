/**
 * The VectorStore port's conformance suite: the same cases against the LanceDB store (in a
 * temporary folder) and the in-memory store, which must answer alike.
 */
import path from 'node:path';
import * as lancedb from '@lancedb/lancedb';
import { afterEach, describe, expect, it } from 'vitest';
import { LanceStore } from '../src/store/lance-store.js';
import { MemoryStore } from '../src/store/memory/memory-store.js';
import { openStore } from '../src/store/index.js';
import type { ItemWithVectors, MetaRecord, VectorStore } from '../src/store/port.js';
import { tempDir, lcg, randomUnit } from './fixtures.js';

const DIM = 8;
const CLASSES = 4;

const unit = (r: () => number, dim = DIM) => randomUnit(r, dim);

const idOf = (i: number) => i.toString(16).padStart(32, '0');
const numOf = (id: string) => Number.parseInt(id, 16);

function item(i: number, vector: Float32Array, meta: MetaRecord = {}, name = `img${i}`, classes = CLASSES): ItemWithVectors {
  return {
    id: idOf(i),
    path: `/photos/${name}.jpg`,
    paths: [`/photos/${name}.jpg`],
    fileSizes: [1000 + i],
    fileMtimes: [1_700_000_000_000 + i],
    width: 100 + i,
    height: 50,
    format: i % 3 ? 'jpeg' : 'png',
    indexedAt: 1,
    meta,
    vector,
    probs: Float32Array.from({ length: classes }, (_, c) => (c === i % classes ? 0.7 : 0.1)),
  };
}

const dot = (a: Float32Array, b: Float32Array) => a.reduce((s, x, j) => s + x * b[j]!, 0);

/** Exhaustive ranking by cosine, ties to the earlier row: what exact search must return. */
function brute(q: Float32Array, rows: readonly ItemWithVectors[], keep: (it: ItemWithVectors) => boolean = () => true) {
  return rows
    .map((it, row) => ({ it, row, s: Math.fround(dot(q, it.vector)) }))
    .filter((x) => keep(x.it))
    .sort((a, b) => b.s - a.s || a.row - b.row)
    .map((x) => x.it.id);
}

const cleanups: Array<() => void | Promise<void>> = [];
afterEach(async () => {
  for (const f of cleanups.splice(0).reverse()) await f();
});

interface Impl {
  name: string;
  open(opts?: { numClasses?: number; imageModel?: string }): Promise<VectorStore>;
}

const IMPLS: Impl[] = [
  {
    name: 'LanceStore',
    async open(opts = {}) {
      const t = tempDir('visor-port-');
      cleanups.push(t.cleanup);
      const store = await LanceStore.open(path.join(t.dir, 'db'), {
        dimension: DIM,
        numClasses: opts.numClasses ?? CLASSES,
        imageModel: opts.imageModel ?? 'test-model',
      });
      cleanups.push(() => store.close());
      return store;
    },
  },
  {
    name: 'MemoryStore',
    async open(opts = {}) {
      return new MemoryStore({ dimension: DIM, numClasses: opts.numClasses ?? CLASSES, imageModel: opts.imageModel ?? 'test-model' });
    },
  },
];

describe.each(IMPLS)('$name implements the VectorStore port', (impl) => {
  it('stores, reads back, rewrites and deletes items', async () => {
    const store = await impl.open();
    const r = lcg(1);
    await store.ensureMetaColumns({ category: 'string', price: 'number' });
    expect(await store.metaColumns()).toEqual({ category: 'string', price: 'number' });
    const items = Array.from({ length: 12 }, (_, i) => item(i, unit(r), { category: i % 2 ? 'odd' : 'even', price: i }));
    const v0 = await store.version();
    await store.insert(items.slice(0, 8));
    await store.upsert(items.slice(8)); // all new
    expect(await store.version()).not.toBe(v0);
    expect(await store.count()).toBe(12);
    expect((await store.vectors()).ids).toEqual(items.map((i) => i.id));

    // In the order asked, unknown ids left out; copies the caller may change.
    const got = await store.getItems([idOf(5), idOf(99), idOf(2)]);
    expect(got.map((g) => g.id)).toEqual([idOf(5), idOf(2)]);
    const { vector: _v, probs: _p, ...record5 } = items[5]!;
    expect(got[0]).toEqual(record5);
    got[0]!.meta.category = 'changed';
    got[0]!.paths.push('/elsewhere.jpg');
    expect((await store.getItems([idOf(5)]))[0]).toEqual(record5);

    const [withVectors] = await store.getItemsWithVectors([idOf(7)]);
    expect(Array.from(withVectors!.vector)).toEqual(Array.from(items[7]!.vector));
    expect(withVectors!.probs).toHaveLength(CLASSES);
    Array.from(items[7]!.probs).forEach((p, c) => expect(withVectors!.probs[c]).toBeCloseTo(p, 3)); // half precision
    await expect(store.getItemsWithVectors(['not-an-id'])).rejects.toMatchObject({ code: 'QUERY_INVALID' });

    expect((await store.fileStates()).find((s) => s.id === idOf(3))).toEqual({ path: '/photos/img3.jpg', id: idOf(3), size: 1003, mtimeMs: 1_700_000_000_003 });

    // A rewritten item moves to the end; a new one follows it.
    await store.upsert([
      { ...withVectors!, paths: [withVectors!.path, '/copy/7.jpg'], fileSizes: [1007, 1007], fileMtimes: [1, 2], meta: { category: 'moved', price: 70 } },
      item(20, unit(r)),
    ]);
    expect((await store.vectors()).ids.slice(-3)).toEqual([idOf(11), idOf(7), idOf(20)]);
    expect((await store.fileStates()).filter((s) => s.id === idOf(7)).map((s) => s.path)).toEqual(['/photos/img7.jpg', '/copy/7.jpg']);
    expect((await store.getItems([idOf(7)]))[0]!.meta).toEqual({ category: 'moved', price: 70 });
    expect([...(await store.idsWhere("category = 'moved'"))]).toEqual([idOf(7)]);

    await store.deleteItems([idOf(0), idOf(1)]);
    expect(await store.count()).toBe(11);
    expect(await store.getItems([idOf(0), idOf(1)])).toEqual([]);
    await expect(store.deleteItems(["x' OR 1=1 --"])).rejects.toMatchObject({ code: 'QUERY_INVALID' });

    const stats = await store.stats();
    expect(stats).toMatchObject({ items: 11, files: 12, annIndex: null, metaColumns: { category: 'string', price: 'number' } });
    expect(stats.version).toBe(await store.version());
  });

  it('searches exactly: k, filters, exclusions, ties to the earlier row, many queries at once', async () => {
    const store = await impl.open();
    const r = lcg(2);
    await store.ensureMetaColumns({ category: 'string', price: 'number' });
    const items = Array.from({ length: 40 }, (_, i) => item(i, unit(r), { category: i % 2 ? 'odd' : 'even', price: i }));
    items[30] = { ...items[30]!, vector: items[10]!.vector }; // a tie: row 10 comes first
    await store.insert(items);
    const q = items[10]!.vector;

    const hits = await store.search(q, { k: 6 });
    expect(hits.map((h) => h.id)).toEqual(brute(q, items).slice(0, 6));
    expect(hits.slice(0, 2).map((h) => h.id)).toEqual([idOf(10), idOf(30)]);
    expect(hits[0]!.score).toBeCloseTo(1, 5);
    hits.forEach((h) => expect(h.score).toBeCloseTo(dot(q, items[numOf(h.id)]!.vector), 5));

    const cheapEven = (it: ItemWithVectors) => it.meta.category === 'even' && (it.meta.price as number) < 10;
    const filtered = await store.search(q, { k: 50, where: "category = 'even' AND price < 10" });
    expect(filtered.map((h) => h.id)).toEqual(brute(q, items, cheapEven));
    const excluded = await store.search(q, { k: 3, exclude: new Set([idOf(10), idOf(30)]) });
    expect(excluded.map((h) => h.id)).toEqual(brute(q, items).slice(2, 5));
    expect(await store.search(q, { k: 5, exact: true, where: 'price > 1000' })).toEqual([]);

    // Many queries: the same rankings; where a filter admits fewer than k, the rest are -Infinity.
    const queries = new Float32Array(4 * DIM);
    for (let i = 0; i < 4; i++) queries.set(unit(r), i * DIM);
    const batch = await store.searchMany(queries, 4, { k: 7, where: 'price >= 35' });
    expect(batch.k).toBe(7);
    expect(batch.ids).toBe((await store.vectors()).ids);
    for (let i = 0; i < 4; i++) {
      const qi = queries.subarray(i * DIM, (i + 1) * DIM);
      const single = await store.search(qi, { k: 7, where: 'price >= 35' });
      expect(single).toHaveLength(5);
      const rows = Array.from(batch.rows.subarray(i * 7, i * 7 + 5));
      expect(rows.map((row) => batch.ids[row])).toEqual(single.map((h) => h.id));
      expect(Array.from(batch.scores.subarray(i * 7 + 5, i * 7 + 7))).toEqual([-Infinity, -Infinity]);
    }

    await expect(store.search(new Float32Array(3), { k: 1 })).rejects.toMatchObject({ code: 'QUERY_INVALID' });
  });

  it('scores every item densely, aligned with vectors()', async () => {
    const store = await impl.open();
    const r = lcg(3);
    const items = Array.from({ length: 20 }, (_, i) => item(i, unit(r)));
    await store.insert(items);
    const { ids, matrix } = await store.vectors();
    expect(matrix).toHaveLength(20 * DIM);
    const queries = new Float32Array(2 * DIM);
    queries.set(unit(r), 0);
    queries.set(unit(r), DIM);
    const all = await store.scoreAll('vector', queries, 2);
    expect(all.ids).toBe(ids);
    expect(all.scores).toHaveLength(40);
    for (let q = 0; q < 2; q++) {
      ids.forEach((id, i) => expect(all.scores[q * 20 + i]).toBeCloseTo(dot(queries.subarray(q * DIM, (q + 1) * DIM), items[numOf(id)]!.vector), 5));
    }
    const p = await store.probabilities();
    expect(p).toMatchObject({ ids, classes: CLASSES });
    expect(p.matrix[3 * CLASSES + 3]).toBeCloseTo(0.7, 3);
    const byClass = await store.scoreAll('probs', Float32Array.from([0, 1, 0, 0]), 1);
    ids.forEach((id, i) => expect(byClass.scores[i]).toBeCloseTo(numOf(id) % CLASSES === 1 ? 0.7 : 0.1, 3));
  });

  it('filters with the SQL subset, and refuses bad filters with FILTER_INVALID', async () => {
    const store = await impl.open();
    const r = lcg(4);
    await store.ensureMetaColumns({ category: 'string', price: 'number' });
    const items = Array.from({ length: 10 }, (_, i) => item(i, unit(r), i === 9 ? { category: 'odd' } : { category: i % 2 ? 'odd' : 'even', price: i }));
    await store.insert(items);
    await store.ensureMetaColumns({ brand: 'string' }); // existing items get null
    const ids = async (where: string) => [...(await store.idsWhere(where))].map(numOf).sort((a, b) => a - b);
    expect(await ids("category = 'odd'")).toEqual([1, 3, 5, 7, 9]);
    expect(await ids("category != 'odd'")).toEqual([0, 2, 4, 6, 8]);
    expect(await ids("category <> 'odd' AND price >= 4")).toEqual([4, 6, 8]);
    expect(await ids('price < 2 OR price > 7')).toEqual([0, 1, 8]);
    expect(await ids('price <= 2')).toEqual([0, 1, 2]);
    expect(await ids('NOT (price > 2)')).toEqual([0, 1, 2]); // NULL stays out
    expect(await ids("(category = 'odd' OR price = 0) AND NOT price IN (1, 3)")).toEqual([0, 5, 7]);
    expect(await ids('price IN (1, 2.0, 7)')).toEqual([1, 2, 7]);
    expect(await ids('price NOT IN (1, 2)')).toEqual([0, 3, 4, 5, 6, 7, 8]);
    expect(await ids('price BETWEEN 3 AND 5')).toEqual([3, 4, 5]);
    expect(await ids('price IS NULL')).toEqual([9]);
    expect(await ids('brand IS NULL')).toHaveLength(10);
    expect(await ids("img_format = 'png' AND img_width > 100")).toEqual([3, 6, 9]);
    expect(await ids("path LIKE '/photos/img_.jpg' AND id LIKE '%5'")).toEqual([5]);
    expect(await ids("Category = 'even' and PRICE = -0")).toEqual([0]);
    await expect(store.matchingIds("id = 'nothing'")).resolves.toEqual(new Set());

    for (const bad of ['price = = 3', "category = 'x", '(price = 1', 'price IN (1, 2', 'price', "price = 'cheap'", 'category = 3']) {
      await expect(store.idsWhere(bad), bad).rejects.toMatchObject({
        code: 'FILTER_INVALID',
        message: expect.stringContaining(`invalid filter ${JSON.stringify(bad)}`) as string,
      });
    }
    await expect(store.idsWhere('nosuch = 1')).rejects.toMatchObject({
      code: 'FILTER_INVALID',
      message: 'invalid filter "nosuch = 1": no column named nosuch; catalogue columns: category, price, brand',
    });
    await expect(store.search(items[0]!.vector, { k: 3, where: 'price = = 3' })).rejects.toMatchObject({ code: 'FILTER_INVALID' });
    await expect(store.keywordSearch('img', { k: 3, where: 'nosuch > 1' })).rejects.toMatchObject({ code: 'FILTER_INVALID' });
  });

  it('finds keywords in file names and catalogue text (stemmed, stop words and accents folded)', async () => {
    const store = await impl.open();
    const r = lcg(5);
    await store.ensureMetaColumns({ title: 'string', price: 'number' });
    const texts: Array<[string, MetaRecord]> = [
      ['redDress_front-2', { title: 'Summer dresses', price: 10 }],
      ['blue-shirt', { title: 'The blue shirt', price: 20 }],
      ['red_shoes', { title: 'Running shoes', price: 30 }],
      ['green-hat', { title: 'Café hat', price: 40 }],
      ['IMG_0001', { title: 'a shoe, the runner', price: 50 }],
      ['IMG_0002', { title: 'nothing to see', price: 60 }],
    ];
    const items = texts.map(([name, meta], i) => item(i, unit(r), meta, name));
    await store.insert(items);
    await store.optimize(); // LanceDB: the text index built
    const found = async (q: string, where?: string) => new Set((await store.keywordSearch(q, { k: 100, where })).map((h) => numOf(h.id)));
    expect(await found('red')).toEqual(new Set([0, 2]));
    expect(await found('dress')).toEqual(new Set([0]));
    expect(await found('shoe')).toEqual(new Set([2, 4]));
    expect(await found('run')).toEqual(new Set([2])); // "runner" stays "runner"
    expect(await found('cafe')).toEqual(new Set([3]));
    expect(await found('CAFÉ hats')).toEqual(new Set([3]));
    expect(await found('blue shirt')).toEqual(new Set([1]));
    expect(await found('red hat')).toEqual(new Set([0, 2, 3]));
    expect(await found('the')).toEqual(new Set());
    expect(await found('purple')).toEqual(new Set());
    expect(await found('shoe', 'price > 40')).toEqual(new Set([4]));
    expect(await store.keywordSearch('  ', { k: 10 })).toEqual([]);
    const ranked = await store.keywordSearch('shirt blue', { k: 10 });
    expect(ranked[0]!.id).toBe(idOf(1));
    for (let i = 1; i < ranked.length; i++) expect(ranked[i]!.score).toBeLessThanOrEqual(ranked[i - 1]!.score);

    // By row of the vectors in memory: the same hits and scores; null for any other id list.
    const { ids } = await store.vectors();
    for (const q of ['red', 'shoe', 'purple']) {
      const byId = new Map((await store.keywordSearch(q, { k: 100 })).map((h) => [h.id, h.score]));
      const byRow = (await store.keywordRows(q, 100, ids))!;
      expect(byRow.hits).toBe(byId.size);
      expect(new Map(Array.from(byRow.rows, (row, i) => [ids[row]!, byRow.scores[i]!]))).toEqual(byId);
    }
    expect(await store.keywordRows('red', 100, [...ids])).toBeNull();

    // Rows written after the text index was built: a query of stop words only still finds
    // nothing, and a word query finds the new row too (LanceDB scans what its index lacks).
    await store.insert([item(6, unit(r), { title: 'the red scarf', price: 70 }, 'IMG_0003')]);
    expect(await found('the')).toEqual(new Set());
    expect(await found('The a of')).toEqual(new Set());
    expect(await found('red')).toEqual(new Set([0, 2, 6]));
    const fresh = await store.vectors();
    expect((await store.keywordRows('the', 100, fresh.ids))!.hits).toBe(0);
  });

  it('keeps further embedding spaces, scored and searched by item, deleted with their items', async () => {
    const store = await impl.open();
    const r = lcg(6);
    await store.ensureMetaColumns({ category: 'string' });
    const items = Array.from({ length: 10 }, (_, i) => item(i, unit(r), { category: i % 2 ? 'odd' : 'even' }));
    await store.insert(items);
    expect(store.spaces()).toEqual([]);
    await store.ensureSpace('clip-b32', { model: 'clip-b32', dimension: 6 });
    await store.ensureSpace('clip-b32', { model: 'clip-b32', dimension: 6 }); // again: nothing to do
    expect(store.spaces()).toMatchObject([{ name: 'clip-b32', model: 'clip-b32', dimension: 6 }]);
    expect(store.manifest.spaces?.['clip-b32']?.dimension).toBe(6);
    await expect(store.ensureSpace('clip-b32', { model: 'clip-b32', dimension: 7 })).rejects.toMatchObject({ code: 'INDEX_INCOMPATIBLE' });
    await expect(store.ensureSpace('Bad Name', { model: 'x', dimension: 6 })).rejects.toMatchObject({ code: 'QUERY_INVALID' });
    await expect(store.spaceIds('nope')).rejects.toMatchObject({ code: 'NOT_FOUND' });

    const vecs = new Map<string, Float32Array>();
    const have = items.slice(0, 8);
    const matrix = new Float32Array(have.length * 6);
    have.forEach((it, i) => {
      const v = unit(r, 6);
      vecs.set(it.id, v);
      matrix.set(v, i * 6);
    });
    await store.addSpaceVectors(
      'clip-b32',
      have.map((it) => it.id),
      matrix,
    );
    await expect(store.addSpaceVectors('clip-b32', [idOf(9)], new Float32Array(5))).rejects.toThrow(/expected 1×6 values/);
    expect(await store.spaceIds('clip-b32')).toEqual(new Set(have.map((it) => it.id)));

    const q = unit(r, 6);
    const scored = await store.scoreSpace('clip-b32', q);
    expect(scored.ids).toEqual((await store.vectors()).ids);
    scored.ids.forEach((id, i) => {
      const v = vecs.get(id);
      if (v) expect(scored.scores[i]).toBeCloseTo(dot(q, v), 5);
      else expect(scored.scores[i]).toBeNaN();
    });
    const ranking = [...vecs].map(([id, v]) => ({ id, s: dot(q, v) })).sort((a, b) => b.s - a.s);
    expect((await store.searchSpace('clip-b32', q, { k: 3 })).map((h) => h.id)).toEqual(ranking.slice(0, 3).map((x) => x.id));
    const even = ranking.filter((x) => numOf(x.id) % 2 === 0).map((x) => x.id);
    expect((await store.searchSpace('clip-b32', q, { k: 10, where: "category = 'even'", exclude: new Set([even[0]!]) })).map((h) => h.id)).toEqual(even.slice(1));
    await expect(store.searchSpace('clip-b32', new Float32Array(DIM), { k: 1 })).rejects.toMatchObject({ code: 'QUERY_INVALID' });

    await store.deleteItems([idOf(0)]);
    expect((await store.spaceIds('clip-b32')).has(idOf(0))).toBe(false);
  });

  it('holds side tables keyed by item id, created on first use', async () => {
    const store = await impl.open();
    const schema = { vector: { vector: 3 }, found: 'bool', mask: 'bytes', score: 'float32', label: 'string' } as const;
    expect(await store.hasSideTable('extras')).toBe(false);
    const t = await store.sideTable('extras', schema);
    expect(await store.hasSideTable('extras')).toBe(true);
    const v0 = await t.version();
    await t.put([
      { id: idOf(1), vector: Float32Array.of(1, 2, 3), found: true, mask: Uint8Array.of(1, 2), score: 0.5, label: 'one' },
      { id: idOf(2), vector: Float32Array.of(4, 5, 6), found: false, mask: Uint8Array.of(3), score: 1.5, label: 'two' },
    ]);
    await t.put([{ id: idOf(1), vector: Float32Array.of(7, 8, 9), found: false, mask: Uint8Array.of(9), score: 2.5, label: 'uno' }]);
    expect(await t.version()).not.toBe(v0);
    const all = await (await store.sideTable('extras', schema)).read(['vector', 'found', 'mask', 'score', 'label']);
    const byId = new Map(all.ids.map((id, i) => [id, i]));
    expect(all.ids).toHaveLength(2);
    const one = byId.get(idOf(1))!;
    const two = byId.get(idOf(2))!;
    expect(Array.from(all.vector.subarray(one * 3, one * 3 + 3))).toEqual([7, 8, 9]);
    expect(Array.from(all.vector.subarray(two * 3, two * 3 + 3))).toEqual([4, 5, 6]);
    expect([all.found[one], all.found[two]]).toEqual([0, 0]);
    expect(Array.from(all.mask[one]!)).toEqual([9]);
    expect([all.score[one], all.score[two]]).toEqual([2.5, 1.5]);
    expect([all.label[one], all.label[two]]).toEqual(['uno', 'two']);
    await t.delete([idOf(1)]);
    expect((await t.read([])).ids).toEqual([idOf(2)]);
    await expect(store.sideTable('items', schema)).rejects.toThrow(/items table/);
  });

  it('holds no class probabilities for an image model without a classifier (numClasses 0)', async () => {
    const store = await impl.open({ numClasses: 0, imageModel: 'clip-model' });
    const r = lcg(7);
    const items = Array.from({ length: 6 }, (_, i) => item(i, unit(r), {}, `img${i}`, 0));
    await store.insert(items);
    await store.upsert([{ ...items[2]!, meta: { note: 'x' } }]);
    const [back] = await store.getItemsWithVectors([idOf(2)]);
    expect(back!.probs).toEqual(new Float32Array(0));
    expect(Array.from(back!.vector)).toEqual(Array.from(items[2]!.vector));
    const p = await store.probabilities();
    expect(p.classes).toBe(0);
    expect(p.matrix).toHaveLength(0);
    expect(p.ids).toHaveLength(6);
    await expect(store.scoreAll('probs', new Float32Array(0), 1)).rejects.toMatchObject({
      code: 'QUERY_INVALID',
      message: expect.stringMatching(/no class probabilities/) as string,
    });
    expect((await store.scoreAll('vector', items[0]!.vector, 1)).scores).toHaveLength(6);
    expect((await store.search(items[4]!.vector, { k: 1 }))[0]!.id).toBe(idOf(4));
    expect(store.manifest.numClasses).toBe(0);
  });
});

describe('LanceStore with numClasses 0', () => {
  it('has no probs column, and reopens as it was', async () => {
    const t = tempDir('visor-port-');
    cleanups.push(t.cleanup);
    const dir = path.join(t.dir, 'db');
    const r = lcg(8);
    const store = await openStore(dir, { dimension: DIM, numClasses: 0, imageModel: 'clip-model' });
    await store.insert([item(1, unit(r), {}, 'a', 0)]);
    await store.close();
    const db = await lancedb.connect(dir);
    const fields = (await (await db.openTable('items')).schema()).fields.map((f) => f.name);
    db.close();
    expect(fields).toContain('vector');
    expect(fields).not.toContain('probs');
    const again = await openStore(dir, { dimension: DIM, numClasses: 0, imageModel: 'clip-model', create: false });
    cleanups.push(() => again.close());
    expect(again.manifest.numClasses).toBe(0);
    expect((await again.getItemsWithVectors([idOf(1)]))[0]!.probs).toHaveLength(0);
  });
});

describe('LanceStore and MemoryStore', () => {
  it('agree on rankings, filters and keyword hits over the same random collection', async () => {
    const lance = await IMPLS[0]!.open();
    const memory = await IMPLS[1]!.open();
    const r = lcg(9);
    const words = ['red', 'dresses', 'dress', 'shoes', 'running', 'runs', 'blue', 'café', 'cafe', 'the', 'happily', 'studies', 'boxes', 'leather', 'bag'];
    const pickWords = (n: number) => Array.from({ length: n }, () => words[Math.floor(r() * words.length)]!).join(' ');
    const items = Array.from({ length: 150 }, (_, i) =>
      item(
        i,
        unit(r),
        { title: pickWords(3), brand: r() < 0.2 ? null : `b${Math.floor(r() * 5)}`, price: Math.floor(r() * 100) },
        `${pickWords(2).replace(/ /g, '_')}_${i}`,
      ),
    );
    for (const store of [lance, memory]) {
      await store.ensureMetaColumns({ title: 'string', brand: 'string', price: 'number' });
      await store.insert(items.slice(0, 100));
      await store.optimize();
      await store.insert(items.slice(100));
      await store.deleteItems([idOf(3), idOf(120)]);
      await store.upsert([{ ...items[5]!, meta: { title: 'leather bag', brand: 'b1', price: 5 } }]);
    }
    expect((await memory.vectors()).ids).toEqual((await lance.vectors()).ids);
    for (const where of [undefined, "brand = 'b1' OR price < 20", 'brand IS NULL AND NOT price BETWEEN 10 AND 50', "title LIKE '%bag%'"]) {
      if (where) expect(await memory.idsWhere(where), where).toEqual(await lance.idsWhere(where));
      for (let q = 0; q < 5; q++) {
        const query = unit(r);
        const [a, b] = await Promise.all([lance.search(query, { k: 15, where }), memory.search(query, { k: 15, where })]);
        expect(b.map((h) => h.id)).toEqual(a.map((h) => h.id));
        b.forEach((h, i) => expect(h.score).toBeCloseTo(a[i]!.score, 5));
      }
    }
    // Not 'the' alone: LanceDB 0.30 fails a query of stop words only while some rows are not yet in its text index.
    for (const q of [...words.filter((w) => w !== 'the'), 'the bag', 'dress shoe', 'run', 'bags', 'nothing']) {
      const [a, b] = await Promise.all([lance.keywordSearch(q, { k: 500 }), memory.keywordSearch(q, { k: 500 })]);
      expect(new Set(b.map((h) => h.id)), q).toEqual(new Set(a.map((h) => h.id)));
    }
  });
});
