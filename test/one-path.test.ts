/**
 * One query path, proven per entry point: the library (Collection.search), the CLI (`visor
 * search --json`) and the HTTP API (POST /api/search) build the same Query and get the same
 * answer — the same ids in the same order with the same scores — for an image query, a text
 * query and a composed query, each filtered, paged and with something excluded.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Collection } from '../src/collection.js';
import { contentId } from '../src/ingest/read-image.js';
import type { Query } from '../src/search/query.js';
import { startServer, type RunningServer } from '../src/server/start.js';
import { copyFlickrTestImages, tempDir, visor } from './fixtures.js';
import { form } from './server-helpers.js';

interface Hit {
  id: string;
  rank: number;
  score: number;
}

/** The part of a page every interface must agree on. */
const page = (results: readonly Hit[]) => results.map(({ id, rank, score }) => ({ id, rank, score }));

/** Same ids in the same order, same ranks, scores equal to 1e-6. */
function expectSame(actual: readonly Hit[], expected: readonly Hit[], label: string): void {
  expect(
    actual.map((r) => r.id),
    label,
  ).toEqual(expected.map((r) => r.id));
  expect(
    actual.map((r) => r.rank),
    label,
  ).toEqual(expected.map((r) => r.rank));
  actual.forEach((r, i) => expect(Math.abs(r.score - expected[i]!.score), `${label}: score at rank ${r.rank}`).toBeLessThanOrEqual(1e-6));
}

describe('one path: library, CLI and HTTP give the same ranking and scores', () => {
  const tmp = tempDir('visor-one-path-');
  const db = path.join(tmp.dir, 'db');
  let files: string[];
  let ids: string[];
  let collection: Collection;
  let server: RunningServer;

  // Every case: a filter that keeps 22 of the 24 items, the second page of 5.
  const WHERE = 'price >= 10';
  const K = 5;
  const OFFSET = 2;
  const passes = (i: number) => i * 5 >= 10;

  beforeAll(async () => {
    files = copyFlickrTestImages(24, path.join(tmp.dir, 'photos'));
    ids = files.map((f) => contentId(fs.readFileSync(f)));
    const title = (i: number) => (i % 3 === 0 ? `Red summer dress ${i}` : i % 3 === 1 ? `Blue evening dress ${i}` : `Green cotton shirt ${i}`);
    fs.writeFileSync(path.join(tmp.dir, 'shop.csv'), ['file,title,price', ...files.map((f, i) => `photos/${path.basename(f)},${title(i)},${i * 5}`)].join('\n'));
    const c = await Collection.open({ db, create: true });
    await c.index([path.join(tmp.dir, 'shop.csv')]);
    await c.close();
    // JSON searches on a search worker (as --search-workers does), uploads on the main thread.
    server = await startServer({ db, host: '127.0.0.1', port: 0, searchWorkers: 1, searchCacheSize: 0 });
    collection = server.collection;
  });
  afterAll(async () => {
    await server?.close();
    tmp.cleanup();
  });

  const cli = (args: string[]): Hit[] => {
    const r = visor(['--db', db, 'search', ...args, '-k', String(K), '--offset', String(OFFSET), '--where', WHERE, '--json']);
    expect(r.code, r.stderr).toBe(0);
    return page((JSON.parse(r.stdout) as { results: Hit[] }).results);
  };
  const http = async (body: unknown, image?: string): Promise<Hit[]> => {
    const res = image
      ? await fetch(`${server.url}/api/search`, { method: 'POST', body: form([{ field: 'image', bytes: fs.readFileSync(image) }], body) })
      : await fetch(`${server.url}/api/search`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const json = (await res.json()) as { results: Hit[] };
    expect(res.status, JSON.stringify(json)).toBe(200);
    return page(json.results);
  };
  const lib = async (q: Query): Promise<Hit[]> => page((await collection.search({ ...q, where: WHERE, k: K, offset: OFFSET })).results);

  /**
   * The same query unfiltered, unpaged and with nothing excluded, filtered and paged here: the
   * page each interface returns must be exactly this (so the filter, the exclusion and the
   * offset were all applied, in that order, to one ranking).
   */
  async function expectedPage(q: Query, excluded: string): Promise<Hit[]> {
    const all = (await collection.search({ ...q, excludeSelf: false, k: ids.length })).results;
    expect(
      all.some((r) => r.id === excluded),
      'the excluded item ranks without the exclusion',
    ).toBe(true);
    const kept = all.filter((r) => passes(ids.indexOf(r.id)) && r.id !== excluded).slice(OFFSET, OFFSET + K);
    return kept.map((r, i) => ({ id: r.id, rank: OFFSET + i + 1, score: r.score }));
  }

  it('an image query (uploaded / a file path), excluding the query image itself', async () => {
    const image = files[5]!;
    const fromLib = await lib({ images: [image], excludeSelf: true });
    expect(fromLib).toHaveLength(K);
    expect(fromLib.map((r) => r.id)).not.toContain(ids[5]);
    expectSame(fromLib, await expectedPage({ images: [image] }, ids[5]!), 'library vs its own unfiltered ranking');
    expectSame(cli(['--image', image, '--exclude-self']), fromLib, 'CLI');
    expectSame(await http({ where: WHERE, k: K, offset: OFFSET, excludeSelf: true }, image), fromLib, 'HTTP');
  });

  it('a text query, excluding an item that would rank on the page (unlike)', async () => {
    const text = 'dog dress';
    // The item that would come first on this page without the exclusion.
    const all = (await collection.search({ text, where: WHERE, k: K, offset: OFFSET })).results;
    expect(all).toHaveLength(K);
    const excluded = all[0]!.id;
    const full = await collection.search({ text, unlike: [excluded], where: WHERE, k: K, offset: OFFSET });
    // Words through keywords and visual concepts, fused with the unliked item's look.
    expect(full.fusion).toBe('rrf');
    expect(full.signals.map((s) => s.name)).toEqual(expect.arrayContaining(['keywords', 'concepts']));
    const fromLib = page(full.results);
    expect(fromLib).toHaveLength(K);
    expect(fromLib.map((r) => r.id)).not.toContain(excluded);
    expectSame(cli([text, '--unlike', excluded]), fromLib, 'CLI');
    expectSame(await http({ text, unlike: [excluded], where: WHERE, k: K, offset: OFFSET }), fromLib, 'HTTP');
  });

  it('a composed query (image + text), excluding the query image itself', async () => {
    const image = files[5]!;
    const compose = { text: 'with a dog' };
    const full = await collection.search({ images: [image], compose, where: WHERE, k: K, offset: OFFSET, excludeSelf: true });
    expect(full.signals.find((s) => s.name === 'composed')).toMatchObject({ understood: true });
    const fromLib = page(full.results);
    expect(fromLib).toHaveLength(K);
    expect(fromLib.map((r) => r.id)).not.toContain(ids[5]);
    expectSame(fromLib, await expectedPage({ images: [image], compose }, ids[5]!), 'library vs its own unfiltered ranking');
    expectSame(cli(['--image', image, '--text', compose.text, '--exclude-self']), fromLib, 'CLI');
    expectSame(await http({ compose, where: WHERE, k: K, offset: OFFSET, excludeSelf: true }, image), fromLib, 'HTTP');
  });

  it('an indexed item as the query image: searchSimilar, imageIds and GET …/similar', async () => {
    const fromLib = page(await collection.searchSimilar(ids[5]!, { where: WHERE, k: K, offset: OFFSET, excludeSelf: true }));
    expect(fromLib).toHaveLength(K);
    expectSame(fromLib, await lib({ images: [files[5]!], excludeSelf: true }), 'an indexed item vs its file');
    expectSame(await http({ imageIds: [ids[5]], where: WHERE, k: K, offset: OFFSET, excludeSelf: true }), fromLib, 'HTTP imageIds');
    const res = await fetch(
      `${server.url}/api/items/${ids[5]}/similar?${new URLSearchParams({ where: WHERE, k: String(K), offset: String(OFFSET), excludeSelf: 'true' })}`,
    );
    expect(res.status).toBe(200);
    expectSame(page(((await res.json()) as { results: Hit[] }).results), fromLib, 'HTTP GET similar');
  });
});
