/**
 * A collection in object storage (4 shards on the rig's Ceph gateway) against a local index of
 * the same images: the same top-10 for image and text queries, with and without a filter on a
 * catalogue column; and what `visor` says when the store is misconfigured (exit 2, nothing written).
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Collection } from '../../src/collection.js';
import { s3Settings } from '../../src/config.js';
import { parseLocation, type S3Location } from '../../src/store/location.js';
import { S3Objects } from '../../src/store/s3/s3-objects.js';
import { copyFlickrTestImages, flickrTestImages, tempDir, visor } from '../fixtures.js';
import { freshDb, rig, rigEnv } from './rig.js';

const r0 = rig();
const env = rigEnv(r0);
Object.assign(process.env, env);
const N = 200;

function objectsAt(db: string, overrides: Record<string, string> = {}): S3Objects {
  return new S3Objects(parseLocation(db, s3Settings({}, { ...env, ...overrides })) as S3Location);
}

describe('a sharded collection on the rig', () => {
  const tmp = tempDir('visor-sharded-');
  const photos = path.join(tmp.dir, 'photos');
  const local = path.join(tmp.dir, 'db');
  const remote = freshDb(r0, 'sharded-collection');
  let files: string[];
  let a: Collection;
  let b: Collection;
  const timing = { local: [] as number[], remote: [] as number[] };

  beforeAll(async () => {
    files = copyFlickrTestImages(N, photos);
    // A catalogue: a column to filter on and words for keyword search.
    const words = ['red', 'dog', 'beach', 'child', 'grass', 'water', 'ball', 'street'];
    fs.writeFileSync(
      path.join(tmp.dir, 'catalogue.csv'),
      [
        'file,title,category,price',
        ...files.map((f, i) => `photos/${path.basename(f)},${words[i % 8]} ${words[(i * 3) % 8]} photo,${i % 3 ? 'blue' : 'red'},${i % 50}`),
      ].join('\n'),
    );
    a = await Collection.open({ db: local, create: true });
    b = await Collection.open({ db: remote, create: true, shards: 4 });
    for (const c of [a, b]) {
      const s = await c.index([photos], { workers: 2 });
      expect(s.indexed).toBe(N);
      await c.index([path.join(tmp.dir, 'catalogue.csv')], { workers: 2 });
    }
  }, 300_000);

  afterAll(async () => {
    await a?.close();
    await b?.close();
    tmp.cleanup();
    if (timing.local.length) {
      const med = (x: number[]) => [...x].sort((p, q) => p - q)[Math.floor(x.length / 2)]!.toFixed(1);
      console.log(`query latency (median of ${timing.local.length}, ms): local ${med(timing.local)}, s3 4 shards ${med(timing.remote)}`);
    }
  });

  const top10 = async (c: Collection, q: Parameters<Collection['search']>[0], t: number[]) => {
    const start = performance.now();
    const r = await c.search({ ...q, k: 10 });
    t.push(performance.now() - start);
    return r.results.map((x) => x.id);
  };

  it('holds the same items, shows its shards, and answers every query with the same top 10 as the local index', async () => {
    expect(await b.store.count()).toBe(N);
    const stats = await b.stats();
    expect(stats).toMatchObject({ items: N, shards: 4, metaColumns: { title: 'string', category: 'string', price: 'number' } });
    expect(stats.bytesOnDisk).toBeGreaterThan(0);
    const queries: Array<Parameters<Collection['search']>[0]> = [];
    for (const f of [...files.slice(0, 6), ...flickrTestImages(N + 4).slice(N)]) {
      queries.push({ images: [f] }, { images: [f], where: "category = 'red'" }, { images: [f], where: 'price < 20' });
    }
    for (const text of ['dog', 'beach', 'a child on the grass', 'red ball', 'water', 'street photo', 'mountain']) {
      queries.push({ text }, { text, where: "category = 'blue' AND price >= 10" });
    }
    for (const q of queries) {
      // Warm both (vectors read once per version), then time the second ask.
      await top10(a, q, []);
      await top10(b, q, []);
      expect(await top10(b, q, timing.remote), JSON.stringify(q)).toEqual(await top10(a, q, timing.local));
    }
  });

  it('a second node sees the first node’s new images within the consistency interval', async () => {
    const other = await Collection.open({ db: remote, consistencySeconds: 1 });
    try {
      expect(await other.store.count()).toBe(N);
      const extra = copyFlickrTestImages(N + 3, path.join(tmp.dir, 'more')).slice(N);
      await b.index(extra);
      const deadline = Date.now() + 3_000;
      let seen = 0;
      while (Date.now() < deadline && (seen = await other.store.count()) < N + 3) await new Promise((r) => setTimeout(r, 200));
      expect(seen).toBe(N + 3);
      const hit = await other.searchImage(extra[1]!, { k: 1 });
      expect(hit[0]!.path).toBe(path.resolve(extra[1]!));
    } finally {
      await other.close();
    }
  });

  it('visor search, stats, remove and tags work with --db s3://…', () => {
    const search = visor(['--db', remote, 'search', '--image', files[3]!, '-k', '5', '--where', "category = 'blue'", '--json'], { env });
    expect(search.code, search.stderr).toBe(0);
    const localSearch = visor(['--db', local, 'search', '--image', files[3]!, '-k', '5', '--where', "category = 'blue'", '--json']);
    const ids = (s: string) => (JSON.parse(s) as { results: Array<{ id: string }> }).results.map((r) => r.id);
    expect(ids(search.stdout)).toEqual(ids(localSearch.stdout));
    const stats = visor(['--db', remote, 'stats'], { env });
    expect(stats.code, stats.stderr).toBe(0);
    expect(stats.stdout).toMatch(/shards\s+4/);
    const removed = visor(['--db', remote, 'remove', files[0]!, '--json'], { env });
    expect(removed.code, removed.stderr).toBe(0);
    expect(JSON.parse(removed.stdout)).toMatchObject({ removedPaths: 1, removedItems: 1 });
    const tags = visor(['--db', remote, 'tags', files[5]!, '--json'], { env });
    expect(tags.code, tags.stderr).toBe(0);
  });
});

describe('a misconfigured object store', () => {
  it('a corrupt or foreign manifest object, a wrong endpoint, credentials or bucket: exit 2, a clear message, nothing written', async () => {
    const image = flickrTestImages(1)[0]!;
    const db = freshDb(r0, 'sharded-bad');
    const objects = objectsAt(db);
    const key = `${(parseLocation(db, s3Settings({}, env)) as S3Location).prefix}/visor.json`;
    try {
      for (const [body, why] of [
        ['{ not json', /visor\.json is damaged/],
        ['{"format":"something-else"}', /visor\.json is not a Visor index manifest/],
      ] as const) {
        await objects.put(key, body);
        for (const args of [['stats'], ['index', image, '--progress', 'none']]) {
          const r = visor(['--db', db, ...args], { env });
          expect(r.code, r.stderr).toBe(2);
          expect(r.stderr).toMatch(why);
          expect(r.stderr).toContain(`s3://${r0.bucket}/${key}`);
        }
        expect((await objects.list(key.replace(/visor\.json$/, ''))).map((o) => o.key)).toEqual([key]);
      }
      await objects.delete(key);
      const missing = visor(['--db', db, 'stats'], { env });
      expect(missing.code).toBe(2);
      expect(missing.stderr).toMatch(/no Visor collection at s3:\/\//);

      const cases: Array<[Record<string, string>, string, RegExp]> = [
        [{ AWS_ENDPOINT_URL: 'http://127.0.0.1:9' }, db, /cannot reach the object store at http:\/\/127\.0\.0\.1:9 .*AWS_ENDPOINT_URL/],
        [{ AWS_SECRET_ACCESS_KEY: 'wrong-secret' }, db, /refused the credentials .*AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY/],
        [{}, `s3://visor-no-such-bucket-${Date.now().toString(36)}/x`, /bucket 'visor-no-such-bucket-\w+' does not exist/],
      ];
      for (const [overrides, where, message] of cases) {
        const r = visor(['--db', where, 'index', image, '--progress', 'none'], { env: { ...env, ...overrides } });
        expect(r.code, r.stderr).toBe(2);
        expect(r.stderr).toMatch(message);
      }
      expect(await objects.list(key.replace(/visor\.json$/, ''))).toEqual([]);
    } finally {
      objects.close();
    }
  });
});
