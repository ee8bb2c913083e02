/**
 * The sharded store on the test rig (Ceph's S3 gateway, NATS for leases): the port's contract
 * where a sharded store answers as one store would (ids in shard order instead of insertion
 * order), and the same rankings as a local LanceStore holding the same items.
 */
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { connectQueue } from '../../src/queue/connect.js';
import { NatsLeases } from '../../src/queue/nats-lease.js';
import { openStore } from '../../src/store/index.js';
import { LanceStore } from '../../src/store/lance-store.js';
import { shardOf } from '../../src/store/sharded/routing.js';
import type { ShardedStore } from '../../src/store/sharded/sharded-store.js';
import type { ItemWithVectors, MetaRecord, VectorStore } from '../../src/store/port.js';
import { s3Settings } from '../../src/config.js';
import { lanceStorageOptions, parseLocation, type S3Location } from '../../src/store/location.js';
import { S3Objects } from '../../src/store/s3/s3-objects.js';
import { ManifestObject } from '../../src/store/sharded/manifest-object.js';
import { lcg, randomUnit, tempDir } from '../fixtures.js';
import { freshDb, rig, rigEnv } from './rig.js';

const DIM = 8;
const CLASSES = 4;
const r0 = rig();
const s3 = s3Settings({}, rigEnv(r0));

const cleanups: Array<() => void | Promise<void>> = [];
afterEach(async () => {
  for (const f of cleanups.splice(0).reverse()) await f();
});

/** Ids spread over shards like content hashes: a hex digest of the number. */
const idOf = (i: number) => (BigInt(i + 1) * 0x9e3779b97f4a7c15n).toString(16).padStart(16, '0').slice(-16).padEnd(32, '0');

function item(i: number, vector: Float32Array, meta: MetaRecord = {}, name = `img${i}`): ItemWithVectors {
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
    probs: Float32Array.from({ length: CLASSES }, (_, c) => (c === i % CLASSES ? 0.7 : 0.1)),
  };
}

async function leases(db: string) {
  return NatsLeases.open(await connectQueue(r0.nats), db, true);
}

async function openSharded(db = freshDb(r0, 'sharded-store'), withLeases = true, shards = 4): Promise<ShardedStore> {
  const store = (await openStore(db, {
    dimension: DIM,
    numClasses: CLASSES,
    imageModel: 'test-model',
    shards,
    s3,
    leases: withLeases ? await leases(db) : undefined,
    notice: () => undefined,
  })) as ShardedStore;
  cleanups.push(() => store.close());
  return store;
}

async function openLocal(): Promise<VectorStore> {
  const t = tempDir('visor-sharded-');
  cleanups.push(t.cleanup);
  const store = await LanceStore.open(path.join(t.dir, 'db'), { dimension: DIM, numClasses: CLASSES, imageModel: 'test-model' });
  cleanups.push(() => store.close());
  return store;
}

describe('ShardedStore on the rig', () => {
  it('stores, routes, reads back, rewrites under leases and deletes items', async () => {
    const store = await openSharded();
    const r = lcg(1);
    await store.ensureMetaColumns({ category: 'string', price: 'number' });
    expect(await store.metaColumns()).toEqual({ category: 'string', price: 'number' });
    const items = Array.from({ length: 24 }, (_, i) => item(i, randomUnit(r, DIM), { category: i % 2 ? 'odd' : 'even', price: i }));
    expect(new Set(items.map((it) => shardOf(it.id, 4))).size).toBe(4);
    const v0 = await store.version();
    await store.insert(items.slice(0, 16));
    await store.upsert(items.slice(16));
    expect(await store.version()).not.toBe(v0);
    expect(await store.count()).toBe(24);
    expect(new Set((await store.vectors()).ids)).toEqual(new Set(items.map((i) => i.id)));

    const got = await store.getItems([idOf(5), idOf(99), idOf(2)]);
    expect(got.map((g) => g.id)).toEqual([idOf(5), idOf(2)]);
    const { vector: _v, probs: _p, ...record5 } = items[5]!;
    expect(got[0]).toEqual(record5);
    const [withVectors] = await store.getItemsWithVectors([idOf(7)]);
    expect(Array.from(withVectors!.vector)).toEqual(Array.from(items[7]!.vector));

    await store.upsert([
      { ...withVectors!, paths: [withVectors!.path, '/copy/7.jpg'], fileSizes: [1007, 1007], fileMtimes: [1, 2], meta: { category: 'moved', price: 70 } },
    ]);
    expect((await store.getItems([idOf(7)]))[0]!.meta).toEqual({ category: 'moved', price: 70 });
    expect([...(await store.idsWhere("category = 'moved'"))]).toEqual([idOf(7)]);
    expect((await store.fileStates()).filter((s) => s.id === idOf(7)).map((s) => s.path)).toEqual(['/photos/img7.jpg', '/copy/7.jpg']);

    await store.deleteItems([idOf(0), idOf(1)]);
    expect(await store.count()).toBe(22);
    expect(await store.getItems([idOf(0), idOf(1)])).toEqual([]);
    const stats = await store.stats();
    expect(stats).toMatchObject({ items: 22, files: 23, annIndex: null, metaColumns: { category: 'string', price: 'number' } });
  });

  it('two nodes creating the same collection at once: one manifest, adopted by both; another model is refused', async () => {
    const db = freshDb(r0, 'sharded-race');
    const [x, y] = await Promise.all([openSharded(db, false, 3), openSharded(db, false, 3)]);
    expect(x.manifest.createdAt).toBe(y.manifest.createdAt);
    expect(x.manifest.shards).toBe(3);
    await x.insert([item(1, randomUnit(lcg(3), DIM))]);
    await y.refresh();
    expect(await y.count()).toBe(1);
    await expect(openStore(db, { dimension: DIM + 1, numClasses: CLASSES, imageModel: 'other-model', s3 })).rejects.toMatchObject({
      code: 'INDEX_INCOMPATIBLE',
      message: expect.stringMatching(/was built with test-model \(8-d\)/) as string,
    });
    await expect(openStore(db, { dimension: DIM, numClasses: CLASSES, imageModel: 'test-model', s3, shards: 5 })).rejects.toMatchObject({
      code: 'QUERY_INVALID',
    });
    await expect(
      openStore(freshDb(r0, 'sharded-none'), { dimension: DIM, numClasses: CLASSES, imageModel: 'test-model', s3, create: false }),
    ).rejects.toMatchObject({
      code: 'INDEX_EMPTY',
    });
  });

  it('nodes creating the same collection at once, then appending, adding a side table and a space at once: every row kept', async () => {
    // Each node created the shards' tables before, and LanceDB commits a creation as an
    // Overwrite: one node's create landed on another's first append and failed (or wiped) it
    // (before the fix, items alone failed one round in three; with the side table and space, every round).
    const db = freshDb(r0, 'sharded-race-rows');
    const nodes = await Promise.all([0, 1, 2].map(() => openSharded(db, true, 2)));
    const r = lcg(20);
    await Promise.all(
      nodes.map(async (s, n) => {
        const items = [item(n * 2, randomUnit(r, DIM)), item(n * 2 + 1, randomUnit(r, DIM))];
        const [table] = await Promise.all([
          s.sideTable('race_side', { n: 'float32' }),
          s.insert(items),
          s.ensureSpace('race-space', { model: 'm', dimension: 4 }),
        ]);
        await Promise.all([
          table.put(items.map((it) => ({ id: it.id, n }))),
          s.addSpaceVectors(
            'race-space',
            items.map((it) => it.id),
            new Float32Array(8).fill(n + 1),
          ),
        ]);
      }),
    );
    for (const s of nodes) await s.refresh();
    for (const [n, s] of nodes.entries()) expect(await s.count(), `items seen by node ${n}`).toBe(6);
    // Side tables and spaces are read as of the consistency interval: a fresh node reads them now.
    const reader = await openSharded(db, false, 2);
    expect((await (await reader.sideTable('race_side', { n: 'float32' })).read(['n'])).ids, 'side table rows').toHaveLength(6);
    expect((await reader.spaceIds('race-space')).size, 'space rows').toBe(6);
  });

  it('a node that did not create the collection waits for its tables, never creating them', async () => {
    const db = freshDb(r0, 'sharded-wait');
    const loc = parseLocation(db, s3) as S3Location;
    const objects = new S3Objects(loc);
    cleanups.push(() => objects.close());
    // Another node has written the manifest and not yet created the shards' tables.
    const { manifest, created } = await new ManifestObject(objects, loc).create({ imageModel: 'test-model', dimension: DIM, numClasses: CLASSES, shards: 2 });
    expect(created).toBe(true);
    let opened: ShardedStore | null = null;
    const opening = openSharded(db, false, 2).then((s) => (opened = s));
    await new Promise((res) => setTimeout(res, 1500));
    expect(opened).toBeNull();
    // (Each LanceDB connection writes an empty namespace table, __manifest, that lists no tables.)
    const keys = (await objects.list(`${loc.prefix}/`)).map((o) => o.key).filter((k) => !k.includes('/__manifest/'));
    expect(keys).toEqual([`${loc.prefix}/visor.json`]);
    // The creator makes them: the waiting node opens them and writes at once.
    for (const shard of [0, 1]) {
      const at = { uri: `${db}/shards/00${shard}`, storageOptions: lanceStorageOptions(s3), manifest: structuredClone(manifest), saveManifest: () => undefined };
      await (await LanceStore.openAt(at)).close();
    }
    const store = await opening;
    await store.insert([item(1, randomUnit(lcg(4), DIM))]);
    expect(await store.count()).toBe(1);

    // A side table another node claimed: waited for the same way, created by the next claimant once the claim is given up.
    const claim = `${loc.prefix}/tables/waited.json`;
    await objects.put(claim, '{}');
    let side: unknown = null;
    const waiting = store.sideTable('waited', { n: 'float32' }).then((t) => (side = t));
    await new Promise((res) => setTimeout(res, 1000));
    expect(side).toBeNull();
    expect(await store.hasSideTable('waited')).toBe(false);
    await objects.delete(claim);
    const other = await openSharded(db, false, 2);
    await other.sideTable('waited', { n: 'float32' });
    // The waiting node writes to the table the other node created (its own write it reads at once).
    const table = await waiting;
    await table.put([{ id: idOf(1), n: 1 }]);
    expect((await table.read(['n'])).n).toEqual(Float32Array.of(1));
  });

  it("a node takes in another node's appends, and its deletes and compaction, as a fresh node reads them", async () => {
    const db = freshDb(r0, 'sharded-follow');
    const writer = await openSharded(db);
    const open = async () =>
      (await openStore(db, { dimension: DIM, numClasses: CLASSES, imageModel: 'test-model', s3, create: false, consistencySeconds: 0 })) as ShardedStore;
    const node = await open();
    cleanups.push(() => node.close());
    const r = lcg(5);
    await writer.ensureMetaColumns({ category: 'string' });
    let next = 0;
    const add = (n: number) =>
      writer.insert(
        Array.from({ length: n }, () => {
          const i = next++;
          return item(i, randomUnit(r, DIM), { category: i % 3 ? 'red shoe' : 'blue bag' });
        }),
      );
    const view = async (s: ShardedStore) => {
      const v = await s.vectors();
      const p = await s.probabilities();
      return {
        ids: [...v.ids],
        matrix: Array.from(v.matrix),
        probs: Array.from(p.matrix),
        items: await s.getItems(v.ids),
        blue: [...(await s.idsWhere("category = 'blue bag'"))].sort(),
        // Hits with equal scores come in no set order.
        keywords: (await s.keywordSearch('blue shoe', { k: 50 })).map((h) => `${h.score} ${h.id}`).sort(),
      };
    };
    const matches = async (step: string) => {
      const fresh = await open();
      try {
        expect(await view(node), step).toEqual(await view(fresh));
      } finally {
        await fresh.close();
      }
    };
    await add(12);
    await matches('first read');
    await add(8);
    await matches('after an append');
    await add(5);
    await matches('after a second append');
    await writer.deleteItems([idOf(0), idOf(13)]);
    await matches('after a delete');
    await add(4);
    await matches('after an append after a delete');
    await writer.optimize();
    await matches('after compaction');
    await add(3);
    await matches('after an append to compacted shards');
    expect((await node.vectors()).ids.length).toBe(12 + 8 + 5 - 2 + 4 + 3);
  });

  it('re-scores exactly where shards answer from their ANN indexes', async () => {
    const db = freshDb(r0, 'sharded-ann');
    const store = (await openStore(db, {
      dimension: DIM,
      numClasses: CLASSES,
      imageModel: 'test-model',
      shards: 2,
      s3,
      leases: await leases(db),
      ann: { threshold: 40, rowsPerPartition: 40 },
      notice: () => undefined,
    })) as ShardedStore;
    cleanups.push(() => store.close());
    const local = await openLocal();
    const r = lcg(11);
    const items = Array.from({ length: 120 }, (_, i) => item(i, randomUnit(r, DIM)));
    await store.insert(items);
    await local.insert(items);
    await store.optimize();
    expect((await store.stats()).annIndex).toMatchObject({ indexedRows: 120 });
    let same = 0;
    for (let q = 0; q < 10; q++) {
      const query = randomUnit(r, DIM);
      const [a, b] = await Promise.all([local.search(query, { k: 5 }), store.search(query, { k: 5 })]);
      b.forEach((h, i) => i === 0 || expect(h.score).toBeLessThanOrEqual(b[i - 1]!.score));
      for (const h of b) expect(h.score).toBeCloseTo(Math.fround(query.reduce((s, x, j) => s + x * items.find((it) => it.id === h.id)!.vector[j]!, 0)), 5);
      if (a.map((h) => h.id).join() === b.map((h) => h.id).join()) same++;
    }
    // Approximate candidates: nearly always the exact top 5 at this size.
    expect(same).toBeGreaterThanOrEqual(8);
  });

  it('without a queue: appends and reads work, rewrites are refused saying a queue is needed, optimize is skipped', async () => {
    const db = freshDb(r0, 'sharded-noqueue');
    const notes: string[] = [];
    const store = (await openStore(db, { dimension: DIM, numClasses: CLASSES, imageModel: 'test-model', s3, notice: (m) => notes.push(m) })) as ShardedStore;
    cleanups.push(() => store.close());
    const r = lcg(2);
    const items = Array.from({ length: 8 }, (_, i) => item(i, randomUnit(r, DIM)));
    await store.insert(items);
    await store.upsert([item(9, randomUnit(r, DIM))]); // new: an append
    expect(await store.count()).toBe(9);
    await expect(store.deleteItems([idOf(1)])).rejects.toMatchObject({
      code: 'QUEUE_UNAVAILABLE',
      message: expect.stringMatching(/removing images .* needs a queue/) as string,
    });
    await expect(store.upsert([{ ...items[2]!, meta: {} }])).rejects.toMatchObject({ code: 'QUEUE_UNAVAILABLE' });
    await store.optimize();
    expect(notes.join('\n')).toMatch(/not optimizing .* needs a queue/);
    expect(await store.count()).toBe(9);
  });

  it('ranks like one local store: vectors, filters, many queries, keywords (global BM25), spaces', async () => {
    const sharded = await openSharded();
    const local = await openLocal();
    const r = lcg(9);
    const words = ['red', 'dresses', 'dress', 'shoes', 'running', 'runs', 'blue', 'café', 'leather', 'bag', 'dog', 'beach'];
    const pick = (n: number) => Array.from({ length: n }, () => words[Math.floor(r() * words.length)]!).join(' ');
    const items = Array.from({ length: 150 }, (_, i) =>
      item(
        i,
        randomUnit(r, DIM),
        { title: pick(1 + Math.floor(r() * 4)), brand: r() < 0.2 ? null : `b${Math.floor(r() * 5)}`, price: Math.floor(r() * 100) },
        `${pick(2).replace(/ /g, '_')}_${i}`,
      ),
    );
    for (const store of [sharded, local]) {
      await store.ensureMetaColumns({ title: 'string', brand: 'string', price: 'number' });
      await store.insert(items);
      await store.optimize();
    }
    for (const where of [undefined, "brand = 'b1' OR price < 20", "title LIKE '%bag%'"]) {
      if (where) expect(await sharded.idsWhere(where)).toEqual(await local.idsWhere(where));
      for (let q = 0; q < 5; q++) {
        const query = randomUnit(r, DIM);
        const [a, b] = await Promise.all([local.search(query, { k: 15, where }), sharded.search(query, { k: 15, where })]);
        expect(b.map((h) => h.id)).toEqual(a.map((h) => h.id));
        b.forEach((h, i) => expect(h.score).toBeCloseTo(a[i]!.score, 6));
      }
    }
    const queries = new Float32Array(3 * DIM);
    for (let i = 0; i < 3; i++) queries.set(randomUnit(r, DIM), i * DIM);
    const [ma, mb] = await Promise.all([
      local.searchMany(queries, 3, { k: 7, where: 'price >= 50' }),
      sharded.searchMany(queries, 3, { k: 7, where: 'price >= 50' }),
    ]);
    expect(mb.ids).toBe((await sharded.vectors()).ids);
    for (let i = 0; i < 3 * 7; i++) expect(mb.ids[mb.rows[i]!]).toBe(ma.ids[ma.rows[i]!]);
    const all = await sharded.scoreAll('vector', queries, 3);
    expect(all.ids).toBe(mb.ids);
    const localAll = await local.scoreAll('vector', queries, 3);
    const lrow = new Map(localAll.ids.map((id, i) => [id, i]));
    all.ids.forEach((id, i) => expect(all.scores[2 * all.ids.length + i]).toBeCloseTo(localAll.scores[2 * localAll.ids.length + lrow.get(id)!]!, 6));

    // Keyword scores: the shards' statistics combined give one index's BM25 (to float rounding).
    for (const q of ['red', 'dress shoe', 'leather bag', 'cafe', 'run', 'beach dog red', 'nothing']) {
      const [a, b] = await Promise.all([local.keywordSearch(q, { k: 500 }), sharded.keywordSearch(q, { k: 500 })]);
      expect(new Set(b.map((h) => h.id)), q).toEqual(new Set(a.map((h) => h.id)));
      const la = new Map(a.map((h) => [h.id, h.score]));
      for (const h of b) expect(h.score, q).toBeCloseTo(la.get(h.id)!, 4);
      const [fa, fb] = await Promise.all([local.keywordSearch(q, { k: 10, where: 'price < 50' }), sharded.keywordSearch(q, { k: 10, where: 'price < 50' })]);
      expect(fb.map((h) => h.score)).toEqual(fa.map((h) => expect.closeTo(h.score, 4) as number));
    }
    const { ids } = await sharded.vectors();
    const rows = (await sharded.keywordRows('red', 100, ids))!;
    const byId = new Map((await sharded.keywordSearch('red', { k: 100 })).map((h) => [h.id, h.score]));
    expect(new Map(Array.from(rows.rows, (row, i) => [ids[row]!, rows.scores[i]!]))).toEqual(byId);
    expect(await sharded.keywordRows('red', 100, [...ids])).toBeNull();

    // A further embedding space: created in every shard, named once in the manifest object.
    await sharded.ensureSpace('clip-b32', { model: 'clip-b32', dimension: 6 });
    const mat = new Float32Array(items.length * 6);
    items.forEach((_, i) => mat.set(randomUnit(r, 6), i * 6));
    await sharded.addSpaceVectors(
      'clip-b32',
      items.map((i) => i.id),
      mat,
    );
    expect((await sharded.spaceIds('clip-b32')).size).toBe(150);
    const q6 = randomUnit(r, 6);
    const brute = items.map((it, i) => ({ id: it.id, s: Math.fround(q6.reduce((s, x, j) => s + x * mat[i * 6 + j]!, 0)) })).sort((a, b) => b.s - a.s);
    expect((await sharded.searchSpace('clip-b32', q6, { k: 5 })).map((h) => h.id)).toEqual(brute.slice(0, 5).map((x) => x.id));
    const scored = await sharded.scoreSpace('clip-b32', q6);
    expect(scored.ids).toBe(ids);
  });
});
