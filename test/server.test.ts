import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Collection } from '../src/collection.js';
import { contentId } from '../src/ingest/read-image.js';
import { DEFAULT_WEIGHTS } from '../src/search/query.js';
import { buildApp } from '../src/server/app.js';
import { resolveServerOptions } from '../src/server/options.js';
import { startServer, type RunningServer } from '../src/server/start.js';
import { bombPng, copyFlickrTestImages, tempDir } from './fixtures.js';
import { form, rawGet } from './server-helpers.js';

const KEY = 'test-key-0123456789abcdef';

/** A search result as the API sends it (the fields these tests read). */
interface Hit {
  id: string;
  rank: number;
  meta: { title: string; price: number };
}

/** A one-file multipart body for app.inject. */
function formInject(bytes: Buffer): { payload: Buffer; headers: Record<string, string> } {
  const head = Buffer.from('--b0\r\nContent-Disposition: form-data; name="image"; filename="q.jpg"\r\nContent-Type: image/jpeg\r\n\r\n');
  return { payload: Buffer.concat([head, bytes, Buffer.from('\r\n--b0--\r\n')]), headers: { 'content-type': 'multipart/form-data; boundary=b0' } };
}

describe('HTTP API on a real server (127.0.0.1)', () => {
  const tmp = tempDir('visor-server-');
  const db = path.join(tmp.dir, 'db');
  let server: RunningServer;
  let base: string;
  let files: string[];
  let ids: string[];
  const titleOf = (i: number) => (i < 8 ? `Red summer dress ${i}` : i < 16 ? `Blue evening dress ${i}` : `Green cotton shirt ${i}`);

  const post = (body: unknown, headers: Record<string, string> = {}) =>
    fetch(`${base}/api/search`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
  // Response bodies are checked field by field below; their static type would add nothing.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const json = async (res: Response) => ({ status: res.status, body: (await res.json()) as any });
  const auth = { authorization: `Bearer ${KEY}` };

  beforeAll(async () => {
    const photos = path.join(tmp.dir, 'photos');
    files = copyFlickrTestImages(24, photos);
    ids = files.map((f) => contentId(fs.readFileSync(f)));
    fs.writeFileSync(
      path.join(tmp.dir, 'shop.csv'),
      ['file,title,price', ...files.map((f, i) => `photos/${path.basename(f)},${titleOf(i)},${i * 5}`)].join('\n'),
    );
    const c = await Collection.open({ db, create: true });
    await c.index([path.join(tmp.dir, 'shop.csv')]);
    await c.close();
    server = await startServer({ db, host: '127.0.0.1', port: 0, apiKey: KEY });
    base = server.url;
  });
  afterAll(async () => {
    await server?.close();
    tmp.cleanup();
  });

  it('listens on loopback and reports health and index status (without the server path)', async () => {
    expect(base).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(await json(await fetch(`${base}/api/health`))).toMatchObject({ status: 200, body: { status: 'ok' } });
    const { status, body } = await json(await fetch(`${base}/api/status`));
    expect(status).toBe(200);
    expect(body).toMatchObject({ items: 24, files: 24, search: 'exact', metaColumns: { title: 'string', price: 'number' }, writesPending: 0 });
    expect(body.db).toBeUndefined();
  });

  it('searches by words, with negative terms, filters and pages', async () => {
    // The catalogue's titles through keywords alone: "dress" is a garment to the concepts too,
    // which would add the photos whose titles lack the word.
    const keywords = { weights: { concepts: 0 } };
    const { status, body } = await json(await post({ text: 'dress', k: 20, ...keywords }));
    expect(status).toBe(200);
    expect(body.understood).toBe(true);
    expect(body.results).toHaveLength(16);
    for (const r of body.results) {
      expect(r.meta.title).toMatch(/dress/);
      expect(r.why.keywords.words).toEqual(['dress']);
    }
    const noRed = (await json(await post({ text: 'dress -red', k: 16, ...keywords }))).body;
    expect(noRed.results.slice(0, 8).every((r: Hit) => /Blue/.test(r.meta.title))).toBe(true);
    const cheap = (await json(await post({ text: 'dress', k: 20, where: 'price < 20', ...keywords }))).body;
    expect(cheap.results.map((r: Hit) => r.meta.price).sort((a: number, b: number) => a - b)).toEqual([0, 5, 10, 15]);
    const all = (await json(await post({ text: 'dress', k: 10, ...keywords }))).body.results.map((r: Hit) => r.id);
    const page2 = (await json(await post({ text: 'dress', k: 5, offset: 5, ...keywords }))).body.results;
    expect(page2.map((r: Hit) => r.id)).toEqual(all.slice(5, 10));
    expect(page2[0].rank).toBe(6);
  });

  it('answers a repeated search from its cache, whatever the order of the fields', async () => {
    const before = (await json(await fetch(`${base}/api/status`))).body.searchCache;
    const a = await json(await post({ text: 'shirt', k: 4, where: 'price > 0' }));
    const b = await json(await post({ where: 'price > 0', k: 4, text: 'shirt' }));
    expect(b.body).toEqual(a.body);
    const after = (await json(await fetch(`${base}/api/status`))).body.searchCache;
    expect(after).toMatchObject({ capacity: 256, hits: before.hits + 1, misses: before.misses + 1 });
  });

  it('says when a query is not understood', async () => {
    const { status, body } = await json(await post({ text: 'qwxzv' }));
    expect(status).toBe(200);
    expect(body).toMatchObject({ understood: false, results: [] });
    expect(body.message).toMatch(/nothing in this collection matches "qwxzv"/);
  });

  it('searches by an uploaded image, and by image and words composed', async () => {
    const bytes = fs.readFileSync(files[3]!);
    const byImage = await json(await fetch(`${base}/api/search`, { method: 'POST', body: form([{ field: 'image', bytes }], { k: 5 }) }));
    expect(byImage.status).toBe(200);
    expect(byImage.body.results[0]).toMatchObject({ id: ids[3], rank: 1 });
    expect(byImage.body.results[0].score).toBeCloseTo(1, 3);
    expect(byImage.body.fusion).toBe('single');

    // Composed: the image of a red dress with the word "blue" — blue dresses rise above other red ones.
    const composed = await json(await fetch(`${base}/api/search`, { method: 'POST', body: form([{ field: 'image', bytes }], { text: 'blue', k: 5 }) }));
    expect(composed.status).toBe(200);
    expect(composed.body.fusion).toBe('rrf');
    expect(composed.body.results[0].why.visual).toBeGreaterThan(0);
    expect(composed.body.results.filter((r: Hit) => /Blue/.test(r.meta.title)).length).toBeGreaterThanOrEqual(3);

    // Without a query part: image only, defaults apply.
    const bare = await json(await fetch(`${base}/api/search`, { method: 'POST', body: form([{ field: 'image', bytes }]) }));
    expect(bare.body.results).toHaveLength(10);
  });

  it('takes relevance feedback (like / unlike ids) and finds items like an indexed one', async () => {
    const liked = await json(await post({ like: [ids[5]], k: 5 }));
    expect(liked.status).toBe(200);
    expect(liked.body.results.map((r: Hit) => r.id)).not.toContain(ids[5]);
    const similar = await json(await fetch(`${base}/api/items/${ids[5]}/similar?k=3`));
    expect(similar.status).toBe(200);
    expect(similar.body.results[0]).toMatchObject({ id: ids[5], rank: 1 });
    expect(similar.body.results[1].id).toBe(liked.body.results[0].id);
    const pushed = await json(await post({ like: [ids[5]], unlike: [liked.body.results[0].id], k: 5 }));
    expect(pushed.body.results.map((r: Hit) => r.id)).not.toContain(liked.body.results[0].id);
    const missing = await json(await post({ like: ['0123456789abcdef0123456789abcdef'] }));
    expect(missing).toMatchObject({ status: 404, body: { error: { code: 'NOT_FOUND' } } });
  });

  it('reaches every kind of search the CLI has: indexed items as query images, composed queries, every signal weight, spaces and stages', async () => {
    const upload = (query: unknown, file = files[3]!) =>
      fetch(`${base}/api/search`, { method: 'POST', body: form([{ field: 'image', bytes: fs.readFileSync(file) }], query) });
    // An indexed item as the query image: itself first, or left out with excludeSelf; the same answer as GET …/similar.
    const byId = await json(await post({ imageIds: [ids[5]], k: 4 }));
    expect(byId.status).toBe(200);
    expect(byId.body.results[0]).toMatchObject({ id: ids[5], rank: 1 });
    expect(byId.body.fusion).toBe('single');
    const similar = await json(await fetch(`${base}/api/items/${ids[5]}/similar?k=4`));
    expect(similar.body).toEqual(byId.body);
    const without = await json(await post({ imageIds: [ids[5]], k: 3, excludeSelf: true }));
    expect(without.body.results.map((r: Hit) => r.id)).toEqual(byId.body.results.slice(1).map((r: Hit) => r.id));
    expect((await json(await post({ imageIds: ['0123456789abcdef0123456789abcdef'] }))).status).toBe(404);

    // Composed: the reference (an upload, an indexed item, a liked item) changed by the words, as the library answers it.
    const composed = await json(await upload({ compose: { text: 'with a dog', weight: 2 }, k: 5, excludeSelf: true }));
    expect(composed.status).toBe(200);
    expect(composed.body.signals.find((s: { name: string }) => s.name === 'composed')).toMatchObject({ understood: true, note: 'zero-shot' });
    const lib = await server.collection.search({ images: [files[3]!], compose: { text: 'with a dog', weight: 2 }, k: 5, excludeSelf: true });
    expect(composed.body.results.map((r: Hit) => r.id)).toEqual(lib.results.map((r) => r.id));
    expect(composed.body.results.map((r: Hit) => r.id)).not.toContain(ids[3]);
    const byItem = await json(await post({ imageIds: [ids[3]], compose: { text: 'with a dog', weight: 2 }, k: 5, excludeSelf: true }));
    expect(byItem.body.results.map((r: Hit) => r.id)).toEqual(lib.results.map((r) => r.id));
    const liked = await json(await post({ like: [ids[3]], compose: { text: 'with a dog' }, k: 5 }));
    expect(liked.status).toBe(200);
    expect(liked.body.signals.map((s: { name: string }) => s.name)).toContain('composed');

    // Every built-in signal may be weighed: switching all but one off leaves that one.
    const weights = { visual: 0, concepts: 0, keywords: 1, joint: 0, clip: 0, negative: 0, composed: 0 };
    const keywordsOnly = await json(await post({ text: 'dress', weights, k: 20 }));
    expect(keywordsOnly.status).toBe(200);
    expect(keywordsOnly.body.results).toHaveLength(16);
    expect(keywordsOnly.body.fusion).toBe('single');
    const weighed = { text: 'red dog', weights: { visual: 1, concepts: 0.5, keywords: 2, joint: 1, clip: 1, negative: 1, composed: 1 }, k: 8 };
    const weighedLib = await server.collection.search(weighed);
    expect((await json(await post(weighed))).body.results.map((r: Hit) => r.id)).toEqual(weighedLib.results.map((r) => r.id));
    // The composition's own weight: at 0 the query is the image alone.
    const unmoved = await json(await upload({ compose: { text: 'with a dog', weight: 0 }, k: 5, excludeSelf: true }));
    const plain = await json(await upload({ k: 5, excludeSelf: true }));
    expect(unmoved.body.results.map((r: Hit) => r.id)).toEqual(plain.body.results.map((r: Hit) => r.id));

    // A space the index does not have, and stages it is not prepared for, are refused with what to do.
    const space = await json(await upload({ space: 'clip-vit-b32' }));
    expect(space).toMatchObject({ status: 404, body: { error: { code: 'NOT_FOUND' } } });
    expect(space.body.error.message).toMatch(/no embedding space "clip-vit-b32" \(it has none\)/);
    const narrow = await json(await upload({ stages: { narrow: true } }));
    expect(narrow).toMatchObject({ status: 400, body: { error: { code: 'QUERY_INVALID' } } });
    expect(narrow.body.error.message).toMatch(/no categories: run 'visor categorize/);
    const localize = await json(await upload({ stages: { localize: true } }));
    expect(localize.body.error.message).toMatch(/not localised: run 'visor localize'/);
    // Stages read one uploaded image: not words, not an indexed item.
    expect((await json(await post({ text: 'dress', stages: { rerank: true } }))).body.error.message).toMatch(/exactly one query image/);
    expect((await json(await post({ imageIds: [ids[3]], stages: { localize: true } }))).body.error.message).toMatch(/give a file, not an item id/);
    // Off is the default: stages all false is a plain search.
    expect((await json(await upload({ stages: { narrow: false, localize: false, rerank: false }, k: 5, excludeSelf: true }))).body).toEqual(plain.body);
  });

  it('composes through the trained model the server was started with, never one a client names', async () => {
    const { trainComposition } = await import('../lab/train/compose/train-composition.js');
    // Toy triplets over the indexed photos (the mechanics, not the quality).
    const triplets = files.slice(0, 16).map((f, i) => ({ reference: f, text: i % 2 ? 'more red' : 'more blue', target: files[(i + 1) % 16]! }));
    const model = await trainComposition(triplets, { encoder: 'mobilenet-pooled', epochs: 1, batchSize: 16, dim: 32 });
    const file = path.join(tmp.dir, 'toy.compose');
    model.save(file);
    model.dispose();
    expect(() => resolveServerOptions({ composeModel: path.join(tmp.dir, 'none.compose') })).toThrow(/no composition model at/);
    // JSON searches on a search worker: the model's path travels in the query, the worker loads it.
    const trained = await startServer({ db, host: '127.0.0.1', port: 0, composeModel: file, searchWorkers: 1 });
    try {
      const search = async (body: unknown) =>
        json(await fetch(`${trained.url}/api/search`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }));
      expect((await json(await fetch(`${trained.url}/api/status`))).body.trainedComposition).toBe(true);
      const r = await search({ like: [ids[3]], compose: { text: 'more red', trained: true }, k: 5 });
      expect(r.status).toBe(200);
      expect(r.body.signals.find((s: { name: string }) => s.name === 'composed')).toMatchObject({ understood: true, note: 'trained' });
      const lib = await trained.collection.search({ like: [ids[3]!], compose: { text: 'more red', model: file }, k: 5 });
      expect(r.body.results.map((x: Hit) => x.id)).toEqual(lib.results.map((x) => x.id));
      expect(r.body.results.map((x: { score: number }) => x.score)).toEqual(lib.results.map((x) => x.score));
      // Without trained it is zero-shot; a weight means nothing to a trained model.
      expect(
        (await search({ like: [ids[3]], compose: { text: 'more red' }, k: 5 })).body.signals.find((s: { name: string }) => s.name === 'composed').note,
      ).toMatch(/^zero-shot/);
      expect((await search({ like: [ids[3]], compose: { text: 'more red', trained: true, weight: 2 } })).body.error.message).toMatch(
        /compose.weight is for zero-shot/,
      );
    } finally {
      await trained.close();
    }
    expect((await json(await fetch(`${base}/api/status`))).body.trainedComposition).toBe(false);
    const none = await json(await post({ like: [ids[3]], compose: { text: 'more red', trained: true } }));
    expect(none).toMatchObject({ status: 400, body: { error: { code: 'QUERY_INVALID' } } });
    expect(none.body.error.message).toMatch(/this server has no trained composition model/);
    // A path is never accepted from a client.
    expect((await json(await post({ like: [ids[3]], compose: { text: 'more red', model: file } }))).body.error.message).toBe(
      'body.compose has an unknown field "model"',
    );
  });

  it('serves an item, its cached thumbnail and its original, by id', async () => {
    const item = await json(await fetch(`${base}/api/items/${ids[2]}`));
    expect(item).toMatchObject({ status: 200, body: { id: ids[2], path: files[2], meta: { title: titleOf(2), price: 10 } } });

    const thumb = await fetch(`${base}/api/items/${ids[2]}/thumbnail`);
    expect(thumb.status).toBe(200);
    expect(thumb.headers.get('content-type')).toBe('image/webp');
    expect(thumb.headers.get('cache-control')).toMatch(/max-age=31536000, immutable/);
    const etag = thumb.headers.get('etag')!;
    const meta = await sharp(Buffer.from(await thumb.arrayBuffer())).metadata();
    expect(meta.format).toBe('webp');
    expect(Math.max(meta.width!, meta.height!)).toBeLessThanOrEqual(256);
    expect(fs.existsSync(path.join(db, 'thumbs', `${ids[2]}.webp`))).toBe(true);
    expect((await fetch(`${base}/api/items/${ids[2]}/thumbnail`, { headers: { 'if-none-match': etag } })).status).toBe(304);

    const original = await fetch(`${base}/api/items/${ids[2]}/original`);
    expect(original.status).toBe(200);
    expect(original.headers.get('content-type')).toBe('image/jpeg');
    expect(Buffer.from(await original.arrayBuffer()).equals(fs.readFileSync(files[2]!))).toBe(true);
    expect(await json(await fetch(`${base}/api/items/0123456789abcdef0123456789abcdef/thumbnail`))).toMatchObject({ status: 404 });
  });

  it("makes thumbnails of indexed images larger than the server's upload pixel limit", async () => {
    // --max-pixels guards what clients send; an indexed 224-px photo is over a 10,000-pixel limit.
    const app = await buildApp(server.collection, resolveServerOptions({ maxPixels: 10_000 }));
    try {
      fs.rmSync(path.join(db, 'thumbs', `${ids[5]}.webp`), { force: true });
      const r = await app.inject({ method: 'GET', url: `/api/items/${ids[5]}/thumbnail` });
      expect(r.statusCode, r.body).toBe(200);
      expect(r.headers['content-type']).toBe('image/webp');
      const upload = await app.inject({ method: 'POST', url: '/api/search', ...formInject(fs.readFileSync(files[5]!)) });
      expect(upload.statusCode).toBe(400);
      expect(upload.json()).toMatchObject({ error: { code: 'IMAGE_INVALID', message: expect.stringMatching(/image too large/) as string } });
    } finally {
      await app.close();
    }
  });

  it('adds and removes images with the API key, keeping uploads inside the index folder', async () => {
    const bytes = await sharp(files[0]).flop().jpeg().toBuffer(); // new content: a mirrored photo
    const id = contentId(bytes);
    // Answered, and cached, before the add (no file name or concept has the word): the add must make the cache forget it.
    expect((await json(await post({ text: 'zorblax' }))).body.understood).toBe(false);
    const noKey = await fetch(`${base}/api/items`, { method: 'POST', body: form([{ field: 'image', bytes, name: 'zorblax dress.jpg' }]) });
    expect(noKey.status).toBe(401);
    const added = await json(
      await fetch(`${base}/api/items`, { method: 'POST', headers: auth, body: form([{ field: 'image', bytes, name: '../../zorblax dress.jpg' }]) }),
    );
    expect(added.status).toBe(201);
    expect(added.body).toMatchObject({ items: [{ id, status: 'added', name: 'zorblax-dress.jpg' }], totalItems: 25 });
    expect(fs.existsSync(path.join(db, 'uploads', id, 'zorblax-dress.jpg'))).toBe(true);
    const found = await json(await fetch(`${base}/api/search`, { method: 'POST', body: form([{ field: 'image', bytes }], { k: 1 }) }));
    expect(found.body.results[0].id).toBe(id);
    expect((await json(await post({ text: 'zorblax' }))).body.results[0].id).toBe(id); // its file name is searchable

    expect((await fetch(`${base}/api/items/${id}`, { method: 'DELETE' })).status).toBe(401);
    const removed = await json(await fetch(`${base}/api/items/${id}`, { method: 'DELETE', headers: auth }));
    expect(removed).toMatchObject({ status: 200, body: { id, removedPaths: 1 } });
    expect(fs.existsSync(path.join(db, 'uploads', id))).toBe(false);
    expect((await fetch(`${base}/api/items/${id}`)).status).toBe(404);

    const notImage = await json(
      await fetch(`${base}/api/items`, { method: 'POST', headers: auth, body: form([{ field: 'image', bytes: Buffer.from('hello'), name: 'x.jpg' }]) }),
    );
    expect(notImage).toMatchObject({ status: 400, body: { error: { code: 'IMAGE_INVALID' } } });
    expect(notImage.body.error.message).toMatch(/nothing added: x\.jpg: not an image/);
  });

  it("answers searches from worker threads the same, and they see the server's own writes at once", async () => {
    const w = await startServer({ db, host: '127.0.0.1', port: 0, apiKey: KEY, searchWorkers: 1, searchCacheSize: 0 });
    try {
      const search = async (body: unknown) =>
        json(await fetch(`${w.url}/api/search`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }));
      const q = { text: 'red dress -blue', where: 'price < 100', k: 5 };
      expect((await search(q)).body).toEqual((await json(await post(q))).body);
      // The fields beyond words too: an indexed item composed with words, weights of every signal.
      const composed = {
        imageIds: [ids[3]],
        compose: { text: 'with a dog', weight: 0.5 },
        text: 'dress',
        weights: { keywords: 2, composed: 1.5, clip: 0 },
        where: 'price < 100',
        k: 5,
        offset: 1,
      };
      const fromWorker = (await search(composed)).body;
      expect(fromWorker.results).toHaveLength(5);
      expect(fromWorker).toEqual((await json(await post(composed))).body);
      expect((await json(await fetch(`${w.url}/api/items/${ids[5]}/similar?k=3`))).body).toEqual(
        (await json(await fetch(`${base}/api/items/${ids[5]}/similar?k=3`))).body,
      );
      expect((await search({ text: 'dress', where: 'no such column = 1' })).body.error.code).toBe('FILTER_INVALID');
      // Added through this server: the worker's next search reads the new version, not LanceDB's view a second old.
      const bytes = await sharp(files[1]).flip().jpeg().toBuffer();
      const add = await fetch(`${w.url}/api/items`, { method: 'POST', headers: auth, body: form([{ field: 'image', bytes, name: 'quixotic.jpg' }]) });
      expect(add.status).toBe(201);
      expect((await search({ text: 'quixotic' })).body.results[0]?.id).toBe(contentId(bytes));
      expect((await fetch(`${w.url}/api/items/${contentId(bytes)}`, { method: 'DELETE', headers: auth })).status).toBe(200);
      expect((await search({ text: 'quixotic' })).body.understood).toBe(false);
    } finally {
      await w.close();
    }
  });

  it('answers 409 while another process holds the index write lock', async () => {
    const lock = path.join(db, 'write.lock');
    fs.writeFileSync(lock, '1'); // pid 1 is always alive
    try {
      const bytes = await sharp(files[1]).flip().jpeg().toBuffer();
      const r = await json(await fetch(`${base}/api/items`, { method: 'POST', headers: auth, body: form([{ field: 'image', bytes }]) }));
      expect(r).toMatchObject({ status: 409, body: { error: { code: 'INDEX_LOCKED' } } });
    } finally {
      fs.rmSync(lock, { force: true });
    }
  });

  it('publishes an OpenAPI document of every route', async () => {
    const { status, body } = await json(await fetch(`${base}/api/openapi.json`));
    expect(status).toBe(200);
    expect(body.openapi).toMatch(/^3\./);
    expect(Object.keys(body.paths).sort()).toEqual(
      [
        '/api/facts',
        '/api/faces/{face}/image',
        '/api/faces/{face}/remove',
        '/api/health',
        '/api/items',
        '/api/items/{id}',
        '/api/items/{id}/duplicates',
        '/api/items/{id}/facts',
        '/api/items/{id}/original',
        '/api/items/{id}/similar',
        '/api/items/{id}/thumbnail',
        '/api/people',
        '/api/people/merge',
        '/api/people/{id}',
        '/api/people/{id}/name',
        '/api/people/{id}/split',
        '/api/search',
        '/api/status',
      ].sort(),
    );
    const request = body.components.schemas.SearchRequest.properties;
    for (const field of ['text', 'imageIds', 'like', 'unlike', 'compose', 'space', 'stages', 'weights', 'where', 'excludeSelf'])
      expect(request[field], field).toBeDefined();
    // Every built-in signal's weight, and only those.
    expect(Object.keys(request.weights.properties).sort()).toEqual(Object.keys(DEFAULT_WEIGHTS).sort());
    expect(Object.keys(request.compose.properties).sort()).toEqual(['text', 'trained', 'weight']);
    expect(Object.keys(request.stages.properties).sort()).toEqual(['localize', 'narrow', 'rerank']);
  });

  describe('bad requests get a 4xx with a clear message, and the server keeps serving', () => {
    it('malformed JSON, unknown fields, wrong types, wrong media type', async () => {
      const bad = await json(await fetch(`${base}/api/search`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"text": "dog",' }));
      expect(bad).toMatchObject({ status: 400, body: { error: { code: 'BAD_REQUEST', message: 'malformed JSON in the request body' } } });
      expect(await json(await post({ text: 'dog', flavour: 'sweet' }))).toMatchObject({
        status: 400,
        body: { error: { message: 'body has an unknown field "flavour"' } },
      });
      expect((await json(await post({ text: 'dog', k: 0 }))).body.error.message).toBe('body.k must be >= 1');
      expect((await json(await post({ text: 'dress', where: 'price = = 1' }))).body.error.code).toBe('FILTER_INVALID');
      // In the user's terms: no Rust source paths or internal columns from LanceDB.
      const unknownColumn = (await json(await post({ text: 'dress', where: 'colour = 1' }))).body.error;
      expect(unknownColumn).toEqual({ code: 'FILTER_INVALID', message: 'invalid filter "colour = 1": no column named colour; catalogue columns: title, price' });
      expect((await json(await post({ text: 'dress', where: 'price <' }))).body.error.message).toBe(
        'invalid filter "price <": Expected: an expression, found: EOF',
      );
      expect((await json(await post({}))).body.error.message).toMatch(/give something to search for/);
      const text = await json(await fetch(`${base}/api/search`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'dog' }));
      expect(text).toMatchObject({ status: 415, body: { error: { code: 'UNSUPPORTED_MEDIA_TYPE' } } });
      const pdf = await fetch(`${base}/api/search`, {
        method: 'POST',
        body: form([{ field: 'image', bytes: Buffer.from('%PDF-1.4'), type: 'application/pdf', name: 'a.pdf' }]),
      });
      expect(await json(pdf)).toMatchObject({ status: 415, body: { error: { message: 'a.pdf is application/pdf, not an image' } } });
    });

    it('the fields beyond words: bad values are 400s that say which field', async () => {
      const bad = async (body: unknown) => (await json(await post(body))) as { status: number; body: { error: { code: string; message: string } } };
      const cases: Array<[unknown, RegExp | string]> = [
        [{ text: 'dress', weights: { colour: 1 } }, 'body.weights has an unknown field "colour"'],
        [{ text: 'dress', weights: { composed: -1 } }, 'body.weights.composed must be >= 0'],
        [{ text: 'dress', weights: { clip: 'high' } }, 'body.weights.clip must be number'],
        [{ like: [ids[3]], compose: {} }, "body.compose must have required property 'text'"],
        [{ like: [ids[3]], compose: { text: '' } }, 'body.compose.text must NOT have fewer than 1 characters'],
        [{ like: [ids[3]], compose: 'with a dog' }, 'body.compose must be object'],
        [{ like: [ids[3]], compose: { text: 'with a dog', weight: 101 } }, 'body.compose.weight must be <= 100'],
        [{ like: [ids[3]], compose: { text: 'with a dog', trained: 'yes' } }, 'body.compose.trained must be boolean'],
        [{ compose: { text: 'with a dog' } }, /a composed query needs a reference/],
        [{ like: [ids[3]], compose: { text: '-grass' } }, /a composed query needs words/],
        [{ text: 'dress', space: '../models/x' }, /body.space is not an embedding space name/],
        [{ text: 'dress', space: 'CLIP' }, /body.space is not an embedding space name/],
        [{ text: 'dress', stages: { narrow: 'yes' } }, 'body.stages.narrow must be boolean'],
        [{ text: 'dress', stages: { segment: true } }, 'body.stages has an unknown field "segment"'],
        [{ text: 'dress', stages: true }, 'body.stages must be object'],
        [{ imageIds: ['../etc/passwd'] }, /body.imageIds.0 is not an item id/],
        [{ imageIds: ids.slice(0, 5) }, 'body.imageIds must NOT have more than 4 items'],
        [{ images: [files[0]] }, 'body has an unknown field "images"'],
        [{ textModel: '/tmp/x.joint', text: 'dress' }, 'body has an unknown field "textModel"'],
      ];
      for (const [body, message] of cases) {
        const r = await bad(body);
        expect(r.status, JSON.stringify(body)).toBe(400);
        expect(r.body.error.code, JSON.stringify(body)).toBe('QUERY_INVALID');
        if (typeof message === 'string') expect(r.body.error.message).toBe(message);
        else expect(r.body.error.message).toMatch(message);
      }
      // At most four query images, uploads and imageIds together.
      const bytes = fs.readFileSync(files[0]!);
      const five = await json(
        await fetch(`${base}/api/search`, {
          method: 'POST',
          body: form(
            [
              { field: 'image', bytes },
              { field: 'image', bytes },
            ],
            { imageIds: ids.slice(0, 3) },
          ),
        }),
      );
      expect(five).toMatchObject({
        status: 400,
        body: { error: { code: 'QUERY_INVALID', message: 'at most 4 query images ("image" uploads and imageIds together)' } },
      });
    });

    it('a 50 MB upload is refused (413) before it is read', async () => {
      const big = Buffer.alloc(50 * 2 ** 20, 0xab);
      const r = await json(await fetch(`${base}/api/search`, { method: 'POST', body: form([{ field: 'image', bytes: big }]) }));
      expect(r).toMatchObject({ status: 413, body: { error: { code: 'PAYLOAD_TOO_LARGE' } } });
      expect(r.body.error.message).toMatch(/upload too large: 50\.0 MB, the limit is 20 MB per request/);
    });

    it('a 30000×30000 PNG is refused before decoding', async () => {
      const r = await json(
        await fetch(`${base}/api/search`, { method: 'POST', body: form([{ field: 'image', bytes: bombPng(), type: 'image/png', name: 'bomb.png' }]) }),
      );
      expect(r).toMatchObject({ status: 400, body: { error: { code: 'IMAGE_INVALID' } } });
      expect(r.body.error.message).toMatch(/image too large \(30000×30000 = 900 MP, limit 50 MP\)/);
    });

    it('"../" in an id is a 400, and nothing is served by path', async () => {
      for (const p of ['/api/items/..%2F..%2Fetc%2Fpasswd/original', '/api/items/../thumbnail', '/api/items/..%2f..%2fpackage.json', `/api/items/${ids[0]}..`]) {
        const r = await rawGet(base, p);
        expect(r.status, p).toBe(400);
        expect(JSON.parse(r.body).error.message, p).toMatch(/is not an item id/);
      }
      for (const p of ['/api/items/../../etc/passwd', '/../../../etc/passwd', '/..%2f..%2f..%2fetc%2fpasswd', '/%2e%2e/%2e%2e/etc/passwd']) {
        const r = await rawGet(base, p);
        expect(r.status, p).toBeGreaterThanOrEqual(400);
        expect(r.status, p).toBeLessThan(500);
        expect(r.body, p).not.toMatch(/root:/);
      }
    });

    it('a broken multipart form is a 400 and an oversized query part a 413, not a 500', async () => {
      const multipart = (type: string, body: string, url = `${base}/api/search`, headers: Record<string, string> = {}) =>
        fetch(url, { method: 'POST', headers: { 'content-type': type, ...headers }, body });
      const part = '--zz\r\nContent-Disposition: form-data; name="image"; filename="a.jpg"\r\nContent-Type: image/jpeg\r\n\r\nabc';
      for (const [type, body] of [
        ['multipart/form-data', 'xxx'], // no boundary
        ['multipart/form-data; boundary=zz', 'xxx'], // no part
        ['multipart/form-data; boundary=zz', part], // ends inside a part
      ] as const) {
        const r = await json(await multipart(type, body));
        expect(r, `${type} ${body.slice(0, 8)}`).toMatchObject({ status: 400, body: { error: { code: 'BAD_REQUEST' } } });
        expect(r.body.error.message).toMatch(/^broken multipart\/form-data upload: /);
      }
      const add = await json(await multipart('multipart/form-data; boundary=zz', part, `${base}/api/items`, auth));
      expect(add).toMatchObject({ status: 400, body: { error: { code: 'BAD_REQUEST' } } });

      const query = await fetch(`${base}/api/search`, {
        method: 'POST',
        body: form([{ field: 'image', bytes: fs.readFileSync(files[0]!) }], { text: 'a'.repeat(70_000) }),
      });
      expect(await json(query)).toMatchObject({ status: 413, body: { error: { code: 'PAYLOAD_TOO_LARGE', message: 'the form field "query" is over 64 KB' } } });
    });

    it('a URL that is not valid percent-encoding, or too long, gets the same JSON errors', async () => {
      for (const p of ['/api/items/%zz/original', '/api/items/%c0%ae%c0%ae/thumbnail', `/api/items/${'a'.repeat(200)}/original`]) {
        const r = await rawGet(base, p);
        expect(r.status, p).toBe(400);
        expect(JSON.parse(r.body), p).toMatchObject({ error: { code: 'BAD_REQUEST' } });
      }
      // HTTP/1.1 without a Host header: Node's own answer would be an empty 400.
      const u = new URL(base);
      const noHost = await new Promise<string>((resolve, reject) => {
        const socket = net.connect(Number(u.port), u.hostname, () => socket.end('GET /api/health HTTP/1.1\r\nConnection: close\r\n\r\n'));
        let text = '';
        socket.on('data', (c: Buffer) => (text += c.toString()));
        socket.on('end', () => resolve(text));
        socket.on('error', reject);
      });
      expect(noHost).toMatch(/^HTTP\/1\.1 400 /);
      expect(JSON.parse(noHost.slice(noHost.indexOf('\r\n\r\n') + 4))).toEqual({ error: { code: 'BAD_REQUEST', message: 'the request has no Host header' } });
      const bad = await fetch(`${base}/api/items/%zz/original`);
      expect(bad.headers.get('x-content-type-options')).toBe('nosniff');
      const huge = await rawGet(base, '/api/health', { 'x-big': 'a'.repeat(70_000) });
      expect(huge.status).toBe(431);
      expect(JSON.parse(huge.body)).toEqual({ error: { code: 'HEADERS_TOO_LARGE', message: 'the URL and headers are too large' } });
    });

    it('a wrong or missing API key is refused for writes', async () => {
      const wrong = await json(await fetch(`${base}/api/items/${ids[0]}`, { method: 'DELETE', headers: { authorization: 'Bearer not-the-key-at-all-000' } }));
      expect(wrong).toMatchObject({ status: 403, body: { error: { code: 'FORBIDDEN', message: 'wrong API key' } } });
      const none = await fetch(`${base}/api/items/${ids[0]}`, { method: 'DELETE' });
      expect(none.status).toBe(401);
      expect(none.headers.get('www-authenticate')).toMatch(/^Bearer/);
      expect((await json(none)).body.error.message).toMatch(/Authorization: Bearer <key>/);
      expect((await fetch(`${base}/api/items/${ids[0]}`)).status).toBe(200); // still indexed
    });

    it('refuses requests addressed to another host name (DNS rebinding)', async () => {
      const r = await rawGet(base, '/api/status', { host: 'attacker.example:80' });
      expect(r.status).toBe(403);
      expect(JSON.parse(r.body).error.message).toMatch(/must be addressed to localhost/);
    });

    it('still serves after all of the above', async () => {
      expect((await fetch(`${base}/api/health`)).status).toBe(200);
      const r = await json(await post({ text: 'shirt', k: 3 }));
      expect(r.status).toBe(200);
      expect(r.body.results).toHaveLength(3);
    });
  });

  it('stops promptly: a request in flight is answered, then its keep-alive connection does not hold the server open', async () => {
    const other = await startServer({ db, host: '127.0.0.1', port: 0 });
    const u = new URL(other.url);
    const body = '{"text":"dress"}';
    // A request whose body is still arriving when the server is told to stop.
    const req = http.request({
      host: u.hostname,
      port: u.port,
      path: '/api/search',
      method: 'POST',
      agent: new http.Agent({ keepAlive: true }),
      headers: { 'content-type': 'application/json', 'content-length': body.length },
    });
    const answered = new Promise<number>((resolve, reject) => {
      req.on('response', (res) => res.resume().on('end', () => resolve(res.statusCode ?? 0)));
      req.on('error', reject);
    });
    req.write(body.slice(0, 5));
    await new Promise((r) => setTimeout(r, 100));
    const t0 = performance.now();
    const closed = other.close();
    await new Promise((r) => setTimeout(r, 100));
    req.end(body.slice(5));
    expect(await answered).toBe(200);
    await closed;
    expect(performance.now() - t0).toBeLessThan(5000); // not the 72-s keep-alive timeout
  });

  describe('security options', () => {
    it('refuses to listen off loopback without a key, and short keys', () => {
      expect(() => resolveServerOptions({ host: '0.0.0.0' })).toThrow(/refusing to listen on 0\.0\.0\.0 without an API key/);
      expect(() => resolveServerOptions({ host: '192.168.1.20' })).toThrow(/without an API key/);
      expect(() => resolveServerOptions({ host: '::' })).toThrow(/without an API key/);
      expect(() => resolveServerOptions({ apiKey: 'short' })).toThrow(/at least 16 characters/);
      expect(resolveServerOptions({ host: 'localhost' }).host).toBe('localhost');
      expect(resolveServerOptions({ host: '0.0.0.0', apiKey: KEY }).rateLimit.exemptLoopback).toBe(true);
    });

    it('off loopback every data route needs the key, the page does not; CORS stays off unless configured', async () => {
      // Built as if for 0.0.0.0, listening on loopback only: tests never leave 127.0.0.1.
      const app = await buildApp(server.collection, resolveServerOptions({ host: '0.0.0.0', apiKey: KEY, corsOrigins: ['https://shop.example'] }));
      await app.listen({ host: '127.0.0.1', port: 0 });
      const addr = app.server.address() as { port: number };
      const url = `http://127.0.0.1:${addr.port}`;
      try {
        expect((await fetch(`${url}/api/status`)).status).toBe(401);
        expect((await fetch(`${url}/api/items/${ids[0]}/thumbnail`)).status).toBe(401);
        expect((await fetch(`${url}/api/status`, { headers: { authorization: 'Bearer wrong-key-wrong-key-wrong' } })).status).toBe(403);
        const ok = await fetch(`${url}/api/status`, { headers: { ...auth, origin: 'https://shop.example' } });
        expect(ok.status).toBe(200);
        expect(ok.headers.get('access-control-allow-origin')).toBe('https://shop.example');
        const thumb = await fetch(`${url}/api/items/${ids[0]}/thumbnail`, { headers: auth });
        expect(thumb.headers.get('cache-control')).toMatch(/^private/);
        const other = await fetch(`${url}/api/status`, { headers: { ...auth, origin: 'https://evil.example' } });
        expect(other.headers.get('access-control-allow-origin')).toBeNull();
        const page = await fetch(`${url}/`);
        expect(page.status).toBe(200);
        expect(await page.text()).toMatch(/<title>Visor/);
      } finally {
        await app.close();
      }
      const plain = await fetch(`${base}/api/status`, { headers: { origin: 'https://shop.example' } });
      expect(plain.headers.get('access-control-allow-origin')).toBeNull();
    });

    it('rate-limits clients (here loopback too, with a small limit)', async () => {
      const app = await buildApp(
        server.collection,
        resolveServerOptions({ apiKey: KEY, rateLimit: { max: 5, uploadMax: 1, windowMs: 60_000, exemptLoopback: false } }),
      );
      await app.listen({ host: '127.0.0.1', port: 0 });
      const url = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;
      try {
        const codes: number[] = [];
        for (let i = 0; i < 7; i++) codes.push((await fetch(`${url}/api/health`)).status);
        expect(codes).toEqual([200, 200, 200, 200, 200, 429, 429]);
        const r = await json(await fetch(`${url}/api/health`));
        expect(r.body.error).toMatchObject({ code: 'RATE_LIMITED' });
        expect(r.body.error.message).toMatch(/too many requests: at most 5 per 60 s/);
      } finally {
        await app.close();
      }
    });
  });
});
