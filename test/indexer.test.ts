import fs from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Collection } from '../src/collection.js';
import { contentId } from '../src/ingest/read-image.js';
import { flickrTestImages, tempDir } from './fixtures.js';

const idOf = (file: string) => contentId(fs.readFileSync(file));

/** Collections opened by the running test, closed after it whatever happened. */
const open: Collection[] = [];
async function openCollection(db: string): Promise<Collection> {
  const c = await Collection.open({ db, create: true });
  open.push(c);
  return c;
}
afterEach(async () => {
  for (const c of open.splice(0)) await c.close();
});

// 1000 sorted test images: [0, 24) the folder, [24, 30) spare content, [30, 40) the catalogue, [40, 240) the abort test.
const SOURCES = flickrTestImages(240);

describe('indexing a folder, then keeping it up to date', () => {
  const tmp = tempDir('visor-indexer-');
  const photos = path.join(tmp.dir, 'photos');
  const sub = path.join(photos, 'sub');
  const db = path.join(tmp.dir, 'db');
  let files: string[];

  beforeAll(() => {
    fs.mkdirSync(sub, { recursive: true });
    files = SOURCES.slice(0, 24).map((f, i) => {
      const dest = path.join(i < 18 ? photos : sub, path.basename(f));
      fs.copyFileSync(f, dest);
      return dest;
    });
  });
  afterAll(() => tmp.cleanup());

  it('indexes 24 images, then finds nothing to do when nothing changed', async () => {
    const col = await openCollection(db);
    const first = await col.index([photos]);
    expect(first).toMatchObject({ scanned: 24, indexed: 24, unchanged: 0, duplicates: 0, removed: 0, skipped: [], interrupted: false, totalItems: 24 });

    const again = await col.index([photos]);
    expect(again).toMatchObject({ scanned: 24, indexed: 0, unchanged: 24, duplicates: 0, removed: 0, metadataUpdated: 0, totalItems: 24 });

    // Touched (new modification time, same bytes): read and hashed again, still unchanged.
    const later = new Date(Date.now() + 60_000);
    fs.utimesSync(files[5]!, later, later);
    const touched = await col.index([photos]);
    expect(touched).toMatchObject({ indexed: 0, unchanged: 24, duplicates: 0, totalItems: 24 });
    const state = (await col.store.fileStates()).find((f) => f.path === files[5]);
    expect(state!.mtimeMs).toBe(fs.statSync(files[5]!).mtimeMs); // the new time is recorded: no re-read next run
    expect((await col.index([photos])).unchanged).toBe(24);
  });

  it('records a copy under a second name as a duplicate path of the same item', async () => {
    const col = await openCollection(db);
    const original = files[0]!;
    const copy = path.join(photos, 'copy-of-first.jpg');
    fs.copyFileSync(original, copy);
    const s = await col.index([photos]);
    expect(s).toMatchObject({ indexed: 0, duplicates: 1, unchanged: 24, totalItems: 24 });

    const id = idOf(original);
    const [item] = await col.store.getItems([id]);
    expect(item).toBeDefined();
    expect(item!.path).toBe(original);
    expect([...item!.paths].sort()).toEqual([original, copy].sort());
    const stats = await col.stats();
    expect(stats).toMatchObject({ items: 24, files: 25, duplicatePaths: 1 });

    // A second pass sees both paths as unchanged, not as new duplicates.
    expect(await col.index([photos])).toMatchObject({ indexed: 0, duplicates: 0, unchanged: 25, totalItems: 24 });
  });

  it('re-embeds a file overwritten with other content and drops the old content', async () => {
    const col = await openCollection(db);
    const target = files[1]!;
    const oldId = idOf(target);
    const replacement = SOURCES[24]!;
    expect(fs.statSync(replacement).size).not.toBe(fs.statSync(target).size); // size alone tells the change
    fs.writeFileSync(target, fs.readFileSync(replacement));
    const newId = idOf(target);

    const s = await col.index([photos]);
    expect(s).toMatchObject({ indexed: 1, duplicates: 0, removed: 0, unchanged: 24, totalItems: 24 });
    expect(await col.store.getItems([oldId])).toEqual([]);
    const states = (await col.store.fileStates()).filter((st) => st.path === target);
    expect(states).toHaveLength(1);
    expect(states[0]!.id).toBe(newId);
    const [item] = await col.store.getItems([newId]);
    expect(item?.paths).toEqual([target]);
  });

  it('drops deleted files on re-index, and removes files, folders and unknown paths on request', async () => {
    const col = await openCollection(db);
    const gone = files[2]!;
    const goneId = idOf(gone);
    fs.rmSync(gone);
    const s = await col.index([photos]);
    expect(s).toMatchObject({ indexed: 0, removed: 1, totalItems: 23 });
    expect(await col.store.getItems([goneId])).toEqual([]);

    // Removing one path of a duplicated item keeps the item under its other path.
    const copy = path.join(photos, 'copy-of-first.jpg');
    const dupRemoved = await col.remove([copy]);
    expect(dupRemoved).toEqual({ removedPaths: 1, removedItems: 0, notIndexed: [] });
    expect((await col.store.getItems([idOf(files[0]!)]))[0]?.paths).toEqual([files[0]]);

    const subRemoved = await col.remove([sub]);
    expect(subRemoved).toEqual({ removedPaths: 6, removedItems: 6, notIndexed: [] });
    const states = await col.store.fileStates();
    expect(states.filter((st) => st.path.startsWith(sub + path.sep))).toEqual([]);
    expect(await col.stats()).toMatchObject({ items: 17, files: 17, duplicatePaths: 0 });

    const missing = path.join(photos, 'never-indexed.jpg');
    const none = await col.remove([missing]);
    expect(none).toEqual({ removedPaths: 0, removedItems: 0, notIndexed: [missing] });
    expect(await col.store.count()).toBe(17);
  });
});

describe('indexing a catalogue', () => {
  const tmp = tempDir('visor-catalogue-');
  const shop = path.join(tmp.dir, 'shop');
  const db = path.join(tmp.dir, 'db');
  const csv = path.join(shop, 'catalogue.csv');
  let files: string[];
  const row = (f: string, i: number, title = `Product ${i}`) => `images/${path.basename(f)},${title},${i < 5 ? 'a' : 'b'},${(9.5 + i).toFixed(2)}`;

  beforeAll(() => {
    fs.mkdirSync(path.join(shop, 'images'), { recursive: true });
    files = SOURCES.slice(30, 40).map((f) => {
      const dest = path.join(shop, 'images', path.basename(f));
      fs.copyFileSync(f, dest);
      return dest;
    });
    fs.writeFileSync(csv, ['path,title,category,price', ...files.map((f, i) => row(f, i))].join('\n') + '\n');
  });
  afterAll(() => tmp.cleanup());

  it('creates typed columns and filters searches on them', async () => {
    const col = await openCollection(db);
    const s = await col.index([csv]);
    expect(s).toMatchObject({ scanned: 10, indexed: 10, skipped: [], totalItems: 10 });
    expect((await col.stats()).metaColumns).toEqual({ title: 'string', category: 'string', price: 'number' });

    const [item] = await col.store.getItems([idOf(files[6]!)]);
    expect(item?.meta).toEqual({ title: 'Product 6', category: 'b', price: 15.5 });

    // The query is a category 'a' image: the filter must still return only 'b' items.
    const results = await col.searchImage(files[0]!, { k: 10, where: "category = 'b'" });
    expect(results.map((r) => r.path).sort()).toEqual(files.slice(5).sort());
    for (const r of results) expect(r.meta.category).toBe('b');

    const cheap = await col.searchImage(files[0]!, { k: 10, where: 'price < 12' });
    expect(cheap.map((r) => r.path).sort()).toEqual(files.slice(0, 3).sort());
  });

  it('updates edited catalogue fields without embedding again', async () => {
    const col = await openCollection(db);
    const lines = ['path,title,category,price', ...files.map((f, i) => row(f, i, i === 7 ? 'Renamed product' : `Product ${i}`))];
    fs.writeFileSync(csv, lines.join('\n') + '\n');
    const s = await col.index([csv]);
    expect(s).toMatchObject({ indexed: 0, metadataUpdated: 1, unchanged: 9, duplicates: 0, removed: 0, totalItems: 10 });

    const [item] = await col.store.getItems([idOf(files[7]!)]);
    expect(item?.meta).toEqual({ title: 'Renamed product', category: 'b', price: 16.5 });
    // The typed column was rewritten too, not only the JSON record.
    const hits = await col.searchImage(files[0]!, { k: 10, where: "title = 'Renamed product'" });
    expect(hits.map((r) => r.path)).toEqual([files[7]]);
    expect(await col.searchImage(files[0]!, { k: 10, where: "title = 'Product 7'" })).toEqual([]);
  });
});

describe('interrupting an index run', () => {
  const tmp = tempDir('visor-abort-');
  const photos = path.join(tmp.dir, 'photos');
  const db = path.join(tmp.dir, 'db');
  let files: string[];

  beforeAll(() => {
    fs.mkdirSync(photos);
    files = SOURCES.slice(40, 240).map((f) => {
      const dest = path.join(photos, path.basename(f));
      fs.copyFileSync(f, dest);
      return dest;
    });
    expect(files).toHaveLength(200);
  });
  afterAll(() => tmp.cleanup());

  it('stops after a committed batch, keeps it, and the next run completes without duplicates', async () => {
    const col = await openCollection(db);
    const abort = new AbortController();
    const first = await col.index([photos], {
      commitSize: 16,
      readAhead: 16,
      signal: abort.signal,
      onProgress: (p) => {
        if (p.phase === 'embedding' && p.embedded > 0) abort.abort();
      },
    });
    expect(abort.signal.aborted).toBe(true);
    expect(first.interrupted).toBe(true);
    expect(first.indexed).toBeGreaterThan(0);
    expect(first.totalItems).toBe(first.indexed);
    expect(first.totalItems).toBeLessThan(200);
    expect(await col.store.count()).toBe(first.totalItems);

    const second = await col.index([photos], { commitSize: 16 });
    expect(second).toMatchObject({ interrupted: false, indexed: 200 - first.totalItems, unchanged: first.totalItems, duplicates: 0, totalItems: 200 });

    const states = await col.store.fileStates();
    expect(states).toHaveLength(200);
    expect(new Set(states.map((s) => s.path)).size).toBe(200);
    const ids = new Set(states.map((s) => s.id));
    expect(ids.size).toBe(200);
    expect(ids).toEqual(new Set(files.map(idOf)));
    expect(await col.store.count()).toBe(200);
  });

  it('an abort while scanning removes nothing from the index', async () => {
    // Ctrl-C during the scan of an already indexed folder: the files not yet listed are not gone.
    const col = await openCollection(db);
    const abort = new AbortController();
    const s = await col.index([photos], {
      signal: abort.signal,
      onProgress: (p) => {
        if (p.phase === 'scanning') abort.abort();
      },
    });
    expect(s).toMatchObject({ interrupted: true, removed: 0, indexed: 0, totalItems: 200 });
    expect(await col.store.count()).toBe(200);
  });
});
