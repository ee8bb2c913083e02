/**
 * The facts pass over a store, with stand-in readers on this thread (the real readers are
 * tested in their own files and, through the worker pool, in facts-pool.test.ts): what is
 * computed, when, and what an interrupted or failing run leaves behind. On the memory store
 * and on LanceDB.
 */
import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FACT_STAGES, MAX_OBJECTS, type FactStage, type ImageFacts } from '../src/core/facts.js';
import { capFacts, computeFacts, factsOfFile, stagesToCompute, type FactsJob } from '../src/facts/compute.js';
import { FactsTable, onlyStages } from '../src/facts/facts-table.js';
import type { FactReader, RgbImage } from '../src/facts/reader.js';
import { parseFactStages } from '../src/facts/settings.js';
import { fillFacts } from '../src/ingest/facts-fill.js';
import type { FactsRunner } from '../src/ingest/facts-pool.js';
import { contentId } from '../src/ingest/read-image.js';
import { openStore } from '../src/store/index.js';
import { MemoryStore } from '../src/store/memory/memory-store.js';
import type { VectorStore } from '../src/store/port.js';
import { copyFlickrTestImages, tempDir } from './fixtures.js';

const DIM = 4;

/** Stand-in readers that count their calls; `failOn` makes the text reader throw on one image size. */
function fakeReaders(calls: Record<FactStage, number>, failOn?: { width: number }): Map<FactStage, FactReader> {
  const reader = (stage: FactStage, read: FactReader['read']): FactReader => ({
    stage,
    id: `fake-${stage}`,
    read: async (image, sofar) => {
      calls[stage]++;
      return read(image, sofar);
    },
    close: async () => undefined,
  });
  return new Map<FactStage, FactReader>([
    ['objects', reader('objects', async (im) => ({ objects: [{ label: 'person', score: 0.9, box: [0, 0, im.width / 2, im.height / 2] }] }))],
    [
      'colours',
      reader('colours', async (_im, sofar) => ({
        colours: [{ name: 'green', share: 0.6 }],
        ...(sofar.objects ? { objects: sofar.objects.map((o) => ({ ...o, colours: [{ name: 'red' as const, share: 1 }] })) } : {}),
      })),
    ],
    [
      'text',
      reader('text', async (im) => {
        if (failOn && im.width === failOn.width) throw new Error('model exploded');
        return { text: [{ text: 'HELLO', score: 0.8, box: [1, 1, 10, 5] }] };
      }),
    ],
  ]);
}

/** The pass's runner, on this thread: the same decoding and merging as the workers. */
function inlineRunner(readers: Map<FactStage, FactReader>, started: FactStage[][], onCompute?: () => void): (stages: FactStage[]) => Promise<FactsRunner> {
  return async (stages) => {
    started.push(stages);
    return {
      readers: Object.fromEntries(stages.map((s) => [s, readers.get(s)!.id])),
      compute: async (job: FactsJob) => {
        onCompute?.();
        return factsOfFile(job, readers, { maxPixels: 1e8 });
      },
      close: async () => undefined,
    };
  };
}

/** Stores items for these files, as the indexer would (vectors made up: the pass never reads them). */
async function addItems(store: VectorStore, files: string[]): Promise<string[]> {
  const items = await Promise.all(
    files.map(async (f) => {
      const bytes = fs.readFileSync(f);
      const meta = await sharp(bytes).metadata();
      const st = fs.statSync(f);
      return {
        id: contentId(bytes),
        path: f,
        paths: [f],
        fileSizes: [st.size],
        fileMtimes: [st.mtimeMs],
        width: meta.width!,
        height: meta.height!,
        format: 'jpeg',
        indexedAt: Date.now(),
        meta: {},
        vector: Float32Array.of(1, 0, 0, 0),
        probs: new Float32Array(0),
      };
    }),
  );
  await store.upsert(items);
  return items.map((i) => i.id);
}

const zero = (): Record<FactStage, number> => ({ objects: 0, colours: 0, text: 0, faces: 0 });

describe('computeFacts', () => {
  const image: RgbImage = { data: new Uint8Array(100 * 50 * 3), width: 100, height: 50 };

  it('scales boxes back to the image, records the readers, keeps reading order', async () => {
    const calls = zero();
    const f = await computeFacts(image, { width: 400, height: 200 }, fakeReaders(calls), ['objects', 'colours']);
    expect(Object.keys(f.stages)).toEqual(['objects', 'colours']);
    expect(f.stages.objects).toBe('fake-objects');
    expect(f).toMatchObject({ width: 400, height: 200, colours: [{ name: 'green' }] });
    expect(f.objects![0]!.box).toEqual([0, 0, 200, 100]);
    expect(f.objects![0]!.colours).toEqual([{ name: 'red', share: 1 }]);
    expect(f.text).toBeUndefined();
  });

  it('computes only the missing stages, keeping the others as stored', async () => {
    const calls = zero();
    const readers = fakeReaders(calls);
    const first = await computeFacts(image, { width: 400, height: 200 }, readers, ['objects', 'colours']);
    expect(stagesToCompute(first, ['objects', 'colours'])).toEqual([]);
    expect(stagesToCompute(first, ['objects', 'colours', 'text'])).toEqual(['text']);
    const second = await computeFacts(image, { width: 400, height: 200 }, readers, ['text'], first);
    expect(calls).toEqual({ objects: 1, colours: 1, text: 1, faces: 0 });
    expect(second.objects).toEqual(first.objects);
    expect(second.text![0]!.box).toEqual([4, 4, 40, 20]);
    // Objects found anew need their box colours named again.
    expect(stagesToCompute({ ...first, stages: { colours: 'c' } }, ['objects', 'colours'])).toEqual(['objects', 'colours']);
  });

  it('a stage that finds nothing stores an empty list; the caps keep the best', async () => {
    const none: FactReader = { stage: 'text', id: 'none', read: async () => ({}), close: async () => undefined };
    const f = await computeFacts(image, { width: 100, height: 50 }, new Map([['text', none]]), ['text']);
    expect(f.text).toEqual([]);
    const many = Array.from({ length: MAX_OBJECTS + 50 }, (_, i) => ({ label: 'car', score: i / 1000, box: [0, 0, 1, 1] as [number, number, number, number] }));
    const capped = capFacts({ objects: many }).objects!;
    expect(capped).toHaveLength(MAX_OBJECTS);
    expect(Math.min(...capped.map((o) => o.score))).toBe(50 / 1000);
  });

  it('onlyStages hides the facts of stages switched off', () => {
    const f: ImageFacts = {
      stages: { objects: 'o', colours: 'c' },
      width: 1,
      height: 1,
      objects: [{ label: 'dog', score: 1, box: [0, 0, 1, 1], colours: [{ name: 'brown', share: 1 }] }],
      colours: [{ name: 'brown', share: 1 }],
    };
    expect(onlyStages(f, ['objects'])).toEqual({ stages: { objects: 'o' }, width: 1, height: 1, objects: [{ label: 'dog', score: 1, box: [0, 0, 1, 1] }] });
    expect(onlyStages(f, ['text'])).toEqual({ stages: {}, width: 1, height: 1 });
  });

  it('parses stage lists as users write them', () => {
    expect(parseFactStages('text,colors')).toEqual(['colours', 'text']);
    expect(parseFactStages('all')).toEqual([...FACT_STAGES]);
    expect(parseFactStages('none')).toEqual([]);
    expect(() => parseFactStages('objects,hats')).toThrow(/unknown fact stage "hats"/);
  });
});

const stores: Array<{ name: string; open: (dir: string) => Promise<VectorStore> }> = [
  { name: 'memory store', open: async () => new MemoryStore({ dimension: DIM, numClasses: 0, imageModel: 'test' }) },
  { name: 'LanceDB store', open: (dir) => openStore(path.join(dir, 'db'), { dimension: DIM, numClasses: 0, imageModel: 'test', create: true }) },
];

describe.each(stores)('the facts pass, $name', ({ open }) => {
  const tmp = tempDir('visor-facts-');
  let files: string[] = [];
  beforeAll(async () => {
    files = copyFlickrTestImages(8, path.join(tmp.dir, 'photos'));
    // One larger image, so boxes are seen to scale back from the readers' 1280 pixels.
    const big = path.join(tmp.dir, 'photos', 'big.jpg');
    await sharp(files[0]!).resize(2560, 1920, { fit: 'fill' }).jpeg().toFile(big);
    files.push(big);
  });
  afterAll(() => tmp.cleanup());

  it('is incremental: a second run computes nothing; a stage switched on runs alone', async () => {
    const store = await open(fs.mkdtempSync(path.join(tmp.dir, 'a')));
    const ids = await addItems(store, files);
    const calls = zero();
    const readers = fakeReaders(calls);
    const started: FactStage[][] = [];
    const table = await FactsTable.open(store);
    const first = await fillFacts(store, ['objects', 'colours'], inlineRunner(readers, started), { table });
    expect(first).toMatchObject({
      computed: files.length,
      already: 0,
      skipped: [],
      interrupted: false,
      perStage: { objects: files.length, colours: files.length },
    });
    expect(started).toEqual([['objects', 'colours']]);
    const facts = await table.get(ids);
    expect(facts.size).toBe(files.length);
    const big = facts.get(ids.at(-1)!)!;
    expect(big).toMatchObject({ width: 2560, height: 1920 });
    expect(big.objects![0]!.box).toEqual([0, 0, 1280, 960]);

    const again = await fillFacts(store, ['objects', 'colours'], inlineRunner(readers, started), { table });
    expect(again).toMatchObject({ computed: 0, already: files.length });
    expect(started).toHaveLength(1); // no workers started when there is nothing to do

    const text = await fillFacts(store, ['objects', 'colours', 'text'], inlineRunner(readers, started), { table });
    expect(text).toMatchObject({ computed: files.length, perStage: { text: files.length } });
    expect(started.at(-1)).toEqual(['text']);
    expect(calls).toEqual({ objects: files.length, colours: files.length, text: files.length, faces: 0 });
    const after = await table.get(ids);
    expect(after.get(ids[0]!)!.objects).toEqual(facts.get(ids[0]!)!.objects);
    expect(after.get(ids[0]!)!.text![0]!.text).toBe('HELLO');
    // Switched off: kept in the table, hidden from readers of the enabled stages.
    expect((await table.get(ids, ['objects'])).get(ids[0]!)!.text).toBeUndefined();
    table.close();
    await store.close();
  });

  it('an interrupted pass keeps its committed batches; the next run finishes, nothing half-written', async () => {
    const store = await open(fs.mkdtempSync(path.join(tmp.dir, 'b')));
    const ids = await addItems(store, files);
    const abort = new AbortController();
    let n = 0;
    const readers = fakeReaders(zero());
    const table = await FactsTable.open(store);
    const first = await fillFacts(
      store,
      ['objects', 'colours', 'text'],
      inlineRunner(readers, [], () => {
        if (++n === 4) abort.abort();
      }),
      { signal: abort.signal, commitSize: 2, readAhead: 1, table },
    );
    expect(first.interrupted).toBe(true);
    expect(first.computed).toBeGreaterThan(0);
    expect(first.computed).toBeLessThan(files.length);
    for (const f of (await table.get(ids)).values()) expect(Object.keys(f.stages)).toEqual(['objects', 'colours', 'text']);
    const second = await fillFacts(store, ['objects', 'colours', 'text'], inlineRunner(readers, []), { table });
    expect(second).toMatchObject({ computed: files.length - first.computed, already: first.computed, interrupted: false });
    expect((await table.get(ids)).size).toBe(files.length);
    table.close();
    await store.close();
  });

  it('a reader that fails on one image, a file that changed or went: skipped with a reason, the rest stored', async () => {
    const dir = fs.mkdtempSync(path.join(tmp.dir, 'c'));
    const mine = files.slice(0, 5).map((f, i) => {
      const dest = path.join(dir, `${i}.jpg`);
      fs.copyFileSync(f, dest);
      return dest;
    });
    const store = await open(dir);
    await sharp(files[3]!).resize(300, 200, { fit: 'fill' }).jpeg().toFile(mine[3]!);
    const ids = await addItems(store, mine);
    fs.writeFileSync(mine[1]!, 'edited since');
    fs.rmSync(mine[2]!);
    const width = 300; // the text reader fails on this one image, told apart by its width
    const table = await FactsTable.open(store);
    const s = await fillFacts(store, ['objects', 'text'], inlineRunner(fakeReaders(zero(), { width }), []), { table });
    expect(s.computed).toBe(2);
    expect(s.skipped.map((k) => [path.basename(k.path), k.reason])).toEqual(
      expect.arrayContaining([
        ['1.jpg', expect.stringMatching(/changed since it was indexed/)],
        ['2.jpg', expect.stringMatching(/vanished|no readable/)],
        ['3.jpg', expect.stringMatching(/text: model exploded/)],
      ]),
    );
    expect([...(await table.get(ids)).keys()].sort()).toEqual([ids[0], ids[4]].sort());

    // A removed item's row is left out when read and pruned by the next pass.
    await store.deleteItems([ids[0]!]);
    expect((await table.all()).has(ids[0]!)).toBe(false);
    expect((await table.stored()).has(ids[0]!)).toBe(true);
    const next = await fillFacts(store, ['objects'], inlineRunner(fakeReaders(zero()), []), { table });
    expect(next.pruned).toBe(1);
    expect((await table.stored()).has(ids[0]!)).toBe(false);
    table.close();
    await store.close();
  });
});
