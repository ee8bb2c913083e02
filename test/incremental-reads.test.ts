/**
 * A reader's caches (vectors, probabilities, page records, filters' ids, term statistics, a
 * further space's vectors) take in only the rows appended since they were read, and read
 * everything again after any other change: either way they must hold what a fresh read holds.
 */
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { readAppended, sameRows, type Mark } from '../src/store/lance/appends.js';
import { lancedb, type Arrow } from '../src/store/lance/arrow.js';
import { LanceStore } from '../src/store/lance-store.js';
import { readManifest } from '../src/store/manifest.js';
import type { ItemWithVectors } from '../src/store/types.js';
import { lcg, randomUnit, tempDir } from './fixtures.js';

const DIM = 8;
const CLASSES = 3;
const SPACE_DIM = 6;
const idOf = (i: number) => i.toString(16).padStart(32, '0');
const words = ['red dress', 'blue shirt', 'red shoe', 'green hat'];

function item(i: number, r: () => number): ItemWithVectors {
  return {
    id: idOf(i),
    path: `/photos/${words[i % words.length]!.replace(' ', '-')}-${i}.jpg`,
    paths: [`/photos/${words[i % words.length]!.replace(' ', '-')}-${i}.jpg`],
    fileSizes: [1000 + i],
    fileMtimes: [1_700_000_000_000 + i],
    width: 100 + i,
    height: 50,
    format: 'jpeg',
    indexedAt: 1,
    meta: { category: i % 2 ? 'odd' : 'even', price: i },
    vector: randomUnit(r, DIM),
    probs: Float32Array.from({ length: CLASSES }, (_, c) => (c === i % CLASSES ? 0.5 : 0.25)),
  };
}

const cleanups: Array<() => void | Promise<void>> = [];
afterEach(async () => {
  for (const f of cleanups.splice(0).reverse()) await f();
});

function dbDir(): string {
  const t = tempDir('visor-incremental-');
  cleanups.push(t.cleanup);
  return path.join(t.dir, 'db');
}

/** The store at `dir` as another process sees it: its own connection, checking for commits on every read. */
async function reader(dir: string): Promise<LanceStore> {
  return LanceStore.openAt({ uri: dir, readConsistencySeconds: 0, manifest: readManifest(dir)!, saveManifest: () => undefined });
}

/** Everything the caches answer, in comparable form. */
async function view(store: LanceStore, query: Float32Array) {
  const v = await store.vectors();
  const p = await store.probabilities();
  const terms = await store.termStats();
  const space = await store.scoreSpace('clip-x', query);
  const sorted = (s: Set<string>) => [...s].sort();
  return {
    ids: [...v.ids],
    matrix: Array.from(v.matrix),
    probs: { ids: [...p.ids], matrix: Array.from(p.matrix) },
    items: await store.getItems(v.ids),
    // Read by their rows' positions in the vectors held (the last rows too: those appended).
    withVectors: (await store.getItemsWithVectors([...v.ids].reverse().slice(0, 8))).map((it) => ({
      ...it,
      vector: Array.from(it.vector),
      probs: Array.from(it.probs),
    })),
    even: sorted(await store.idsWhere("category = 'even'")),
    cheap: sorted(await store.idsWhere('price < 12')),
    terms: { docs: terms.docs, totalLength: terms.totalLength, df: [...terms.df].sort(([a], [b]) => (a < b ? -1 : 1)) },
    space: new Map(Array.from(space.ids, (id, i) => [id, space.scores[i]])),
    spaceIds: sorted(await store.spaceIds('clip-x')),
  };
}

describe('incremental reads', () => {
  it('keep a reader equal to a fresh read through appends, updates, deletes, new columns and compaction', async () => {
    const dir = dbDir();
    const r = lcg(11);
    const writer = await LanceStore.open(dir, { dimension: DIM, numClasses: CLASSES, imageModel: 'test-model', create: true });
    cleanups.push(() => writer.close());
    await writer.ensureMetaColumns({ category: 'string', price: 'number' });
    await writer.ensureSpace('clip-x', { model: 'clip-x', dimension: SPACE_DIM });
    const query = randomUnit(r, SPACE_DIM);
    let next = 0;
    const add = async (n: number) => {
      const items = Array.from({ length: n }, () => item(next++, r));
      await writer.insert(items);
      // Every other item gets a vector in the further space.
      const embedded = items.filter((_, i) => i % 2 === 0);
      const m = new Float32Array(embedded.length * SPACE_DIM);
      embedded.forEach((_, i) => m.set(randomUnit(r, SPACE_DIM), i * SPACE_DIM));
      await writer.addSpaceVectors(
        'clip-x',
        embedded.map((it) => it.id),
        m,
      );
    };
    await add(20);
    const node = await reader(dir);
    cleanups.push(() => node.close());
    const matches = async (step: string) => {
      // Versions are reused for 100 ms (see TableVersion): look for the writer's commits now.
      await node.refresh();
      const fresh = await reader(dir);
      try {
        const want = await view(fresh, query);
        const got = await view(node, query);
        expect(got.ids.length, step).toBe(want.ids.length);
        expect(got, step).toEqual(want);
      } finally {
        await fresh.close();
      }
    };

    await matches('first read');
    await add(5);
    await matches('after an append');
    const before = (await node.vectors()).matrix;
    await add(3);
    await matches('after a second append');
    // Read in place after the rows held: only the appended rows were read.
    expect((await node.vectors()).matrix.buffer).toBe(before.buffer);

    const [edited] = await writer.getItemsWithVectors([idOf(4)]);
    await writer.upsert([{ ...edited!, vector: randomUnit(r, DIM), meta: { category: 'odd', price: 99 } }]);
    await matches('after an update');
    expect((await node.vectors()).matrix.buffer).not.toBe(before.buffer);

    await writer.deleteItems([idOf(0), idOf(21)]);
    await matches('after a delete');
    await writer.ensureMetaColumns({ colour: 'string' });
    await matches('after a new column');
    await add(4);
    await matches('after an append to a table with a new column');
    await writer.optimize();
    await matches('after compaction');
    await add(2);
    await matches('after an append to a compacted table');
    expect((await node.vectors()).ids.length).toBe(20 + 5 + 3 - 2 + 4 + 2);
  });

  it('tell appended rows from any other change', async () => {
    const t = tempDir('visor-appends-');
    cleanups.push(t.cleanup);
    const db = await lancedb.connect(t.dir);
    cleanups.push(() => db.close());
    const rows = (from: number, n: number) => Array.from({ length: n }, (_, i) => ({ id: `r${from + i}`, v: from + i }));
    const table = await db.createTable('t', rows(0, 5));
    const mark0: Mark = { rows: 5, fragment: 0 };
    const ids = async (m: Mark) => {
      const got = await readAppended(table, m, async (a) => {
        const tbl = await table.query().where(a.filter).select(['id']).toArray();
        expect(tbl.length).toBe(a.count);
        return tbl.map((x) => String(x.id));
      });
      return got && { ids: got.value, mark: got.mark };
    };

    expect(await ids(mark0)).toEqual({ ids: [], mark: mark0 });
    await table.add(rows(5, 3));
    await table.add(rows(8, 2));
    const appended = await ids(mark0);
    expect(appended).toEqual({ ids: ['r5', 'r6', 'r7', 'r8', 'r9'], mark: { rows: 10, fragment: 2 } });
    await table.addColumns([{ name: 'w', valueSql: 'v * 2' }]);
    expect(await ids(appended!.mark)).toEqual({ ids: [], mark: appended!.mark });

    await table.delete("id = 'r6'"); // a row the mark covers
    expect(await ids(appended!.mark)).toBeNull();
    const afterDelete: Mark = { rows: 9, fragment: 2 };
    await table.add(rows(10, 1));
    await table.delete("id = 'r10'"); // only a row appended since: still appends
    expect(await ids(afterDelete)).toEqual({ ids: [], mark: { rows: 9, fragment: 2 } });
    await table
      .mergeInsert('id')
      .whenMatchedUpdateAll()
      .whenNotMatchedInsertAll()
      .execute([{ id: 'r1', v: 100, w: 0 }]);
    expect(await ids(afterDelete)).toBeNull(); // an update: deleted, appended again
    const afterUpdate: Mark = { rows: 9, fragment: 4 };
    expect(await ids(afterUpdate)).toEqual({ ids: [], mark: afterUpdate });

    // A commit while the appended rows are read: the read holds the table as listed, the next read the rest.
    await table.add(rows(20, 2));
    const during = await readAppended(table, afterUpdate, async (a) => {
      await table.add(rows(30, 1));
      const tbl = (await table.query().where(a.filter).select(['id']).withRowId().toArrow()) as unknown as Arrow.Table;
      return sameRows(tbl, a) ? Array.from({ length: tbl.numRows }, (_, r) => String(tbl.getChild('id')!.get(r))) : null;
    });
    expect(during).toEqual({ value: ['r20', 'r21'], mark: { rows: 11, fragment: 5 } });
    expect(await ids(during!.mark)).toEqual({ ids: ['r30'], mark: { rows: 12, fragment: 6 } });
    // A listed row deleted before the reader gets to it: the reader sees it missing.
    const gone = await readAppended(table, during!.mark, async (a) => {
      await table.delete("id = 'r30'");
      return sameRows((await table.query().where(a.filter).withRowId().toArrow()) as unknown as Arrow.Table, a) ? [] : null;
    });
    expect(gone).toBeNull();
    await table.optimize();
    expect(await ids(afterUpdate)).toBeNull(); // compacted: every row moved
  });
});
