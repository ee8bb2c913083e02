import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Collection } from '../src/collection.js';
import { FACES_TABLE } from '../src/faces/faces-table.js';
import { Grouping, pairwiseScores, type GroupingFace } from '../src/faces/grouping.js';
import { fitSimilarity } from '../src/models/face-embedder.js';
import { contentId } from '../src/ingest/read-image.js';
import { FLICKR_TEST_IMAGES, SHARED, tempDir, visor } from './fixtures.js';

const LFW = path.join(SHARED, 'datasets', 'lfw-deepfunneled', 'images');
const lfw = (name: string, n: number) => path.join(LFW, name, `${name}_${String(n).padStart(4, '0')}.jpg`);

describe('five-point alignment', () => {
  it('fitSimilarity recovers a rotation, scale and shift', () => {
    const from = [10, 10, 40, 12, 25, 30, 14, 45, 38, 44];
    const [a, b, tx, ty] = [1.3 * Math.cos(0.2), 1.3 * Math.sin(0.2), 5, -7];
    const to = from.map((_, i) => (i % 2 === 0 ? a * from[i]! - b * from[i + 1]! + tx : b * from[i - 1]! + a * from[i]! + ty));
    const t = fitSimilarity(from, to);
    expect(t.a).toBeCloseTo(a, 6);
    expect(t.b).toBeCloseTo(b, 6);
    expect(t.tx).toBeCloseTo(tx, 6);
    expect(t.ty).toBeCloseTo(ty, 6);
  });
});

/** A unit vector near `base` (its direction plus a little of another axis). */
function near(base: number, other: number, amount: number, dim = 8): Float32Array {
  const v = new Float32Array(dim);
  v[base] = 1;
  v[other] = amount;
  const n = Math.hypot(1, amount);
  return v.map((x) => x / n);
}

describe('grouping', () => {
  const faces = new Map<string, GroupingFace>();
  const face = (id: string, embedding: Float32Array, low = false) => {
    const f = { id, embedding, low };
    faces.set(id, f);
    return f;
  };
  const params = { join: 0.6, joinLow: 0.8, merge: 0.7, evict: 0.2 };

  it('puts close faces together and others apart; a name survives new faces and regrouping', () => {
    const g = new Grouping([], (id) => faces.get(id), params);
    g.add([face('a1', near(0, 1, 0.1)), face('a2', near(0, 2, 0.2)), face('b1', near(3, 4, 0.1))]);
    expect(g.person('a1')).toBe(g.person('a2'));
    expect(g.person('b1')).not.toBe(g.person('a1'));
    g.name(g.person('a1')!, 'Ann');
    const again = new Grouping([...g.persons.values()], (id) => faces.get(id), params);
    again.add([face('a3', near(0, 5, 0.15))]);
    again.regroup();
    expect(again.persons.get(again.person('a3')!)!.name).toBe('Ann');
  });

  it('a low-quality face between two persons does not join them', () => {
    const g = new Grouping([], (id) => faces.get(id), params);
    // x and y are 0.5 apart in cosine; the blurred face sits between them (0.87 to each).
    const x = new Float32Array([1, 0, 0, 0, 0, 0, 0, 0]);
    const y = new Float32Array([0.5, Math.sqrt(0.75), 0, 0, 0, 0, 0, 0]);
    const mid = x.map((v, i) => v + y[i]!);
    const m = mid.map((v) => v / Math.hypot(...mid));
    g.add([face('x', x), face('y', y), face('blur', m, true)]);
    g.regroup();
    expect(g.person('x')).not.toBe(g.person('y'));
    expect(pairwiseScores([g.person('x')!, g.person('y')!], ['X', 'Y']).precision).toBe(1);
  });

  it('split faces stay apart and never come back; merged persons stay merged', () => {
    const g = new Grouping([], (id) => faces.get(id), params);
    g.add([face('c1', near(6, 1, 0.1)), face('c2', near(6, 2, 0.1)), face('c3', near(6, 3, 0.1))]);
    const c = g.person('c1')!;
    const out = g.split(c, ['c3']);
    g.regroup();
    expect(g.person('c3')).toBe(out.id);
    expect(g.person('c1')).toBe(c);
    g.add([face('d1', near(7, 1, 0.1))]);
    const merged = g.merge([g.person('d1')!, c]);
    g.regroup();
    expect(g.person('d1')).toBe(merged.id);
    expect(g.person('c1')).toBe(merged.id);
  });

  it('pairwise scores count pairs put together', () => {
    expect(pairwiseScores(['a', 'a', 'b', 'b'], ['x', 'x', 'x', 'y'])).toEqual({ precision: 0.5, recall: 1 / 3, f1: 0.4 });
  });
});

const HAVE_LFW = fs.existsSync(LFW);

/** Whether any file under `dir` holds these bytes. */
function onDisk(dir: string, bytes: Buffer): boolean {
  for (const e of fs.readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (e.isFile() && fs.readFileSync(path.join(e.parentPath, e.name)).includes(bytes)) return true;
  }
  return false;
}

describe.skipIf(!HAVE_LFW)('faces at index time, people and search by person', () => {
  const tmp = tempDir('visor-faces-');
  const db = path.join(tmp.dir, 'db');
  const images = path.join(tmp.dir, 'images');
  const bush = [1, 2, 3].map((n) => lfw('George_W_Bush', n));
  const powell = [1, 2].map((n) => lfw('Colin_Powell', n));
  let c: Collection;
  let summary: Awaited<ReturnType<Collection['index']>>;

  beforeAll(async () => {
    fs.mkdirSync(images, { recursive: true });
    for (const f of [...bush, ...powell]) fs.copyFileSync(f, path.join(images, path.basename(f)));
    // No face: dogs in the snow; and a file that is not an image at all.
    fs.copyFileSync(path.join(FLICKR_TEST_IMAGES, '3385593926_d3e9c21170.jpg'), path.join(images, 'dogs.jpg'));
    fs.writeFileSync(path.join(images, 'broken.jpg'), Buffer.from('not a jpeg at all, just bytes'));
    c = await Collection.open({ db, create: true });
    summary = await c.index([images], { facts: ['faces'], workers: 1 });
  }, 180_000);

  afterAll(async () => {
    await c?.close();
    tmp.cleanup();
  });

  it('reads faces, groups them into persons, and a faceless or broken image adds no face and no error', async () => {
    expect(summary.facts?.skipped).toEqual([]);
    expect(summary.facts?.people?.faces).toBe(5);
    const people = await c.people();
    expect(people.map((p) => p.faces).sort()).toEqual([2, 3]);
    const dogs = contentId(fs.readFileSync(path.join(images, 'dogs.jpg')));
    const facts = (await c.facts([dogs])).get(dogs)!;
    expect(facts.stages.faces).toBeDefined();
    expect(facts.faces).toBeUndefined(); // the faces live in their own table
  });

  it("--person finds the named person's photos, and --face finds them from another photo", async () => {
    const people = await c.people();
    const george = people.find((p) => p.faces === 3)!;
    await c.namePerson(george.id, 'George');
    const byName = await c.search({ persons: ['george'], k: 10 });
    const bushIds = bush.map((f) => contentId(fs.readFileSync(f)));
    expect(byName.results.map((r) => r.id).sort()).toEqual([...bushIds].sort());
    expect((byName.results[0]!.why.people as { persons: Array<{ name: string }> }).persons[0]!.name).toBe('George');
    const byFace = await c.search({ face: lfw('George_W_Bush', 4), k: 10 });
    expect(byFace.results.map((r) => r.id).sort()).toEqual([...bushIds].sort());
    expect((byFace.results[0]!.why.people as { face: { name: string } }).face.name).toBe('George');
    // With words and a filter too: still only George's photos.
    const combined = await c.search({ persons: ['George'], text: 'man', where: 'face_count >= 1', k: 10 });
    expect(combined.results.every((r) => bushIds.includes(r.id))).toBe(true);
  });

  it('the name survives another index run, and forget leaves no embedding in the store', async () => {
    fs.copyFileSync(lfw('George_W_Bush', 5), path.join(images, 'George_W_Bush_0005.jpg'));
    await c.index([images]);
    const george = (await c.people()).find((p) => p.name === 'George')!;
    expect(george.faces).toBe(4);
    const powellIds = powell.map((f) => contentId(fs.readFileSync(f)));
    const powellPerson = (await c.people()).find((p) => p.name === undefined)!;
    // One of the person's embeddings as stored bytes: on disk before, nowhere on disk after.
    const before = await (await c.store.sideTable(FACES_TABLE, { item: 'string', embedding: { vector: 128 } })).read(['item', 'embedding']);
    const row = before.item.findIndex((item) => powellIds.includes(item));
    const bytes = Buffer.from(before.embedding.buffer, before.embedding.byteOffset + row * 512, 64);
    expect(onDisk(db, bytes)).toBe(true);
    const forgotten = await c.forgetPerson(powellPerson.id);
    expect(onDisk(db, bytes)).toBe(false);
    expect(forgotten.faces).toBe(2);
    const table = await c.store.sideTable(FACES_TABLE, { item: 'string' });
    const rows = await table.read(['item']);
    expect(rows.item.some((item) => powellIds.includes(item))).toBe(false);
    expect(rows.ids).toHaveLength(4);
    expect((await c.people()).map((p) => p.name)).toEqual(['George']);
  });
});

describe.skipIf(!HAVE_LFW || !fs.existsSync(path.resolve(import.meta.dirname, '..', 'dist', 'src', 'cli', 'main.js')))(
  'visor people and search --person on the command line',
  () => {
    const tmp = tempDir('visor-faces-cli-');
    const db = path.join(tmp.dir, 'db');

    beforeAll(async () => {
      const images = path.join(tmp.dir, 'images');
      fs.mkdirSync(images, { recursive: true });
      for (const f of [lfw('George_W_Bush', 1), lfw('George_W_Bush', 2), lfw('Colin_Powell', 1)]) fs.copyFileSync(f, path.join(images, path.basename(f)));
      const c = await Collection.open({ db, create: true });
      await c.index([images], { facts: ['faces'], workers: 1 });
      await c.close();
    }, 180_000);

    afterAll(() => tmp.cleanup());

    it('lists, names and searches by person', () => {
      const list = visor(['--db', db, '--json', 'people']);
      expect(list.code).toBe(0);
      const people = JSON.parse(list.stdout) as Array<{ id: string; faces: number }>;
      const george = people.find((p) => p.faces === 2)!;
      expect(visor(['--db', db, 'people', 'name', george.id, 'George Bush']).stdout).toMatch(/"George Bush": 2 faces in 2 images/);
      const found = visor(['--db', db, '--json', 'search', '--person', 'George Bush']);
      expect(found.code).toBe(0);
      const results = (JSON.parse(found.stdout) as { results: Array<{ path: string }> }).results;
      expect(results.map((r) => path.basename(r.path)).sort()).toEqual(['George_W_Bush_0001.jpg', 'George_W_Bush_0002.jpg']);
      const text = visor(['--db', db, 'search', '--person', 'George Bush']);
      expect(text.stdout).toMatch(/faces of George Bush/);
      const byFace = visor(['--db', db, '--json', 'search', '--face', lfw('George_W_Bush', 3)]);
      expect(byFace.code).toBe(0);
      const faceResults = (JSON.parse(byFace.stdout) as { results: Array<{ path: string }> }).results;
      expect(faceResults.map((r) => path.basename(r.path)).sort()).toEqual(['George_W_Bush_0001.jpg', 'George_W_Bush_0002.jpg']);
      expect(visor(['--db', db, 'people', 'forget', 'nobody']).code).not.toBe(0);
    });
  },
);
