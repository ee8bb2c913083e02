import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Collection } from '../src/collection.js';
import { contentId } from '../src/ingest/read-image.js';
import { copyFlickrTestImages, tempDir } from './fixtures.js';

describe('search by image', () => {
  const tmp = tempDir('visor-search-');
  const photos = path.join(tmp.dir, 'photos');
  const db = path.join(tmp.dir, 'db');
  let collection: Collection;
  let files: string[];

  beforeAll(async () => {
    files = copyFlickrTestImages(60, photos);
    collection = await Collection.open({ db, create: true });
    const s = await collection.index([photos]);
    expect(s.indexed).toBe(60);
  });
  afterAll(async () => {
    await collection.close();
    tmp.cleanup();
  });

  it('finds an indexed image itself first, with score 1', async () => {
    const results = await collection.searchImage(files[10]!, { k: 5 });
    expect(results).toHaveLength(5);
    expect(results[0]!.path).toBe(files[10]);
    expect(results[0]!.score).toBeGreaterThan(0.999);
    expect(results[0]!.id).toBe(contentId(fs.readFileSync(files[10]!)));
    expect(results.map((r) => r.rank)).toEqual([1, 2, 3, 4, 5]);
    for (let i = 1; i < results.length; i++) expect(results[i]!.score).toBeLessThanOrEqual(results[i - 1]!.score);
  });

  it('finds the original of an edited copy (resized, cropped, recompressed) first', async () => {
    for (const original of [files[3]!, files[25]!, files[47]!]) {
      const edited = await sharp(original)
        .extract({ left: 12, top: 8, width: 200, height: 206 })
        .resize(160, 150)
        .modulate({ brightness: 1.1 })
        .jpeg({ quality: 55 })
        .toBuffer();
      const results = await collection.searchImage(edited, { k: 3 });
      expect(results[0]!.path).toBe(original);
      expect(results[0]!.score).toBeGreaterThan(0.8);
      expect(results[0]!.score - results[1]!.score).toBeGreaterThan(0.1);
    }
  });

  it('pages with offset, leaves the query out on request, and searches from an indexed id', async () => {
    const ten = await collection.searchImage(files[0]!, { k: 10 });
    const page2 = await collection.searchImage(files[0]!, { k: 5, offset: 5 });
    expect(page2.map((r) => r.id)).toEqual(ten.slice(5).map((r) => r.id));
    expect(page2[0]!.rank).toBe(6);
    const withoutSelf = await collection.searchImage(files[0]!, { k: 9, excludeSelf: true });
    expect(withoutSelf.map((r) => r.id)).toEqual(ten.slice(1).map((r) => r.id));
    const similar = await collection.searchSimilar(ten[0]!.id, { k: 10 });
    expect(similar.map((r) => r.id)).toEqual(ten.map((r) => r.id));
  });

  it('rejects bad queries with clear errors', async () => {
    await expect(collection.searchImage(files[0]!, { k: 0 })).rejects.toMatchObject({ code: 'QUERY_INVALID' });
    await expect(collection.searchImage(path.join(photos, 'missing.jpg'))).rejects.toMatchObject({ code: 'IMAGE_UNREADABLE' });
    await expect(collection.searchImage(Buffer.from('not an image'))).rejects.toMatchObject({ code: 'IMAGE_INVALID' });
    await expect(collection.searchSimilar('0'.repeat(32))).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(collection.searchSimilar("x' OR 1=1 --")).rejects.toMatchObject({ code: 'QUERY_INVALID' });
  });
});
