import fs from 'node:fs';
import path from 'node:path';
import sharp, { type Sharp } from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Collection } from '../src/collection.js';
import { buildApp } from '../src/server/app.js';
import { resolveServerOptions } from '../src/server/options.js';
import { copyFlickrTestImages, tempDir, visor } from './fixtures.js';

/**
 * A folder of known copies and non-copies: photo 0 with a smaller copy, a crop and a mirror
 * image; photo 1 re-encoded as a low-quality WebP; photo 2 with a caption drawn over it;
 * photos 3–6 alone. The groups are known exactly.
 */
describe('visor duplicates and visor remove --duplicates on a folder of known copies', () => {
  const tmp = tempDir('visor-dups-');
  const images = path.join(tmp.dir, 'images');
  const db = path.join(tmp.dir, 'db');
  let photos: string[];
  let expected: string[][];

  beforeAll(async () => {
    photos = copyFlickrTestImages(7, images);
    const name = (i: number) => path.basename(photos[i]!, '.jpg');
    const write = async (file: string, img: Sharp) => fs.writeFileSync(path.join(images, file), await img.toBuffer());
    await write(`${name(0)}-small.jpg`, sharp(photos[0]).resize(140, 140).jpeg({ quality: 85 }));
    await write(`${name(0)}-crop.jpg`, sharp(photos[0]).extract({ left: 30, top: 20, width: 170, height: 180 }).jpeg({ quality: 90 }));
    await write(`${name(0)}-flip.jpg`, sharp(photos[0]).flop().jpeg({ quality: 90 }));
    await write(`${name(1)}-q25.webp`, sharp(photos[1]).webp({ quality: 25 }));
    const caption = Buffer.from(
      '<svg xmlns="http://www.w3.org/2000/svg" width="224" height="224"><text x="10" y="200" font-family="sans-serif" font-weight="bold" font-size="26" fill="#fff" stroke="#000">SALE 50%</text></svg>',
    );
    await write(
      `${name(2)}-caption.jpg`,
      sharp(photos[2])
        .composite([{ input: caption }])
        .jpeg({ quality: 90 }),
    );
    expected = [
      [`${name(0)}.jpg`, `${name(0)}-crop.jpg`, `${name(0)}-flip.jpg`, `${name(0)}-small.jpg`],
      [`${name(1)}.jpg`, `${name(1)}-q25.webp`],
      [`${name(2)}.jpg`, `${name(2)}-caption.jpg`],
    ].map((g) => g.sort());
    const c = await Collection.open({ db, create: true });
    await c.index([images], { facts: [] });
    await c.close();
  }, 120_000);

  afterAll(() => tmp.cleanup());

  const groupsOf = (json: { groups: Array<{ items: Array<{ path: string }> }> }) =>
    json.groups.map((g) => g.items.map((i) => path.basename(i.path)).sort()).sort((a, b) => a[0]!.localeCompare(b[0]!));

  it('finds exactly the groups of copies, each with a confidence', () => {
    const r = visor(['--db', db, '--json', 'duplicates']);
    expect(r.code, r.stderr).toBe(0);
    const json = JSON.parse(r.stdout);
    expect(groupsOf(json)).toEqual([...expected].sort((a, b) => a[0]!.localeCompare(b[0]!)));
    for (const g of json.groups) expect(g.confidence).toBeGreaterThanOrEqual(0.5);
    expect(json.items).toBe(12);
    const text = visor(['--db', db, 'duplicates']);
    expect(text.stdout).toMatch(/^group 1: 4 images, confidence \d\.\d\d$/m);
    expect(text.stdout).toMatch(/^3 groups of copies \(5 images beyond the first of each\) among 12 images/m);
  }, 120_000);

  it("GET /api/items/{id}/duplicates answers an item's copies, surest first", async () => {
    const c = await Collection.open({ db });
    const app = await buildApp(c, resolveServerOptions({}));
    try {
      const idOf = new Map((await c.store.fileStates()).map((s) => [path.basename(s.path), s.id]));
      const res = await app.inject({ method: 'GET', url: `/api/items/${idOf.get(expected[1]![0]!)}/duplicates` });
      expect(res.statusCode).toBe(200);
      const body = res.json();
      expect(body.duplicates.map((d: { item: { path: string } }) => path.basename(d.item.path))).toEqual([expected[1]![1]]);
      expect(body.duplicates[0].confidence).toBeGreaterThanOrEqual(0.5);
      const alone = await app.inject({ method: 'GET', url: `/api/items/${idOf.get(path.basename(photos[5]!))}/duplicates` });
      expect(alone.json().duplicates).toEqual([]);
      expect((await app.inject({ method: 'GET', url: `/api/items/${'0'.repeat(64)}/duplicates` })).statusCode).toBe(404);
    } finally {
      await app.close();
      await c.close();
    }
  }, 120_000);

  it('--dry-run removes nothing; the real run removes exactly what the dry run listed, keeping the largest', async () => {
    const files = () => fs.readdirSync(images).sort();
    const before = files();
    const dry = visor(['--db', db, '--json', 'remove', '--duplicates', '--keep', 'largest', '--dry-run']);
    expect(dry.code, dry.stderr).toBe(0);
    const plan = JSON.parse(dry.stdout);
    expect(plan.dryRun).toBe(true);
    expect(plan.removed).toBeNull();
    const listed = plan.plan.flatMap((s: { remove: Array<{ id: string }> }) => s.remove.map((x) => x.id)).sort();
    expect(listed).toHaveLength(5);
    // Of photo 0's group, the 224×224 images are the largest: the smaller copy and the crop go.
    const step0 = plan.plan.find((s: { keep: { path: string } }) => expected[0]!.includes(path.basename(s.keep.path)));
    expect(step0.remove.map((x: { path: string }) => path.basename(x.path))).toEqual(
      expect.arrayContaining([expected[0]!.find((f) => f.endsWith('-small.jpg'))]),
    );
    let c = await Collection.open({ db });
    expect((await c.stats()).items).toBe(12);
    await c.close();

    const real = visor(['--db', db, '--json', 'remove', '--duplicates', '--keep', 'largest']);
    expect(real.code, real.stderr).toBe(0);
    const done = JSON.parse(real.stdout);
    expect(done.plan.flatMap((s: { remove: Array<{ id: string }> }) => s.remove.map((x) => x.id)).sort()).toEqual(listed);
    expect(done.removed.removedItems).toBe(5);
    c = await Collection.open({ db });
    try {
      expect((await c.stats()).items).toBe(7);
      expect(await c.items(listed)).toEqual([]);
    } finally {
      await c.close();
    }
    expect(files()).toEqual(before); // the files themselves are untouched
    expect(JSON.parse(visor(['--db', db, '--json', 'duplicates']).stdout).groups).toEqual([]);
  }, 180_000);
});
