import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Collection } from '../src/collection.js';
import type { Detection, ImageFacts } from '../src/core/facts.js';
import { SideTables } from '../src/domain/side-tables.js';
import { contentId } from '../src/ingest/read-image.js';
import type { Box } from '../src/localize/mask.js';
import { FLICKR_TEST_IMAGES, tempDir } from './fixtures.js';

/** Flickr8k test photos (224 × 224) with something the detector finds. */
const PHOTOS = {
  /** A black dog leaping on a lawn, a bird beside it. */
  dog: '1107246521_d16a476380.jpg',
  /** Two people on a bench: a catalogue category "dog" for it has no match, so the best detection counts. */
  bench: '1082379191_ec1e53f996.jpg',
  /** People and a small dog between them: with the category "dog", the dog is the object, not the surer people. */
  walk: '115684808_cb01227802.jpg',
};

const iou = (a: Box, b: Box) => {
  const w = Math.max(0, Math.min(a.x1, b.x1) - Math.max(a.x0, b.x0));
  const h = Math.max(0, Math.min(a.y1, b.y1) - Math.max(a.y0, b.y0));
  const area = (r: Box) => (r.x1 - r.x0) * (r.y1 - r.y0);
  return (w * h) / (area(a) + area(b) - w * h);
};
const frac = (d: Pick<Detection, 'box'>, side = 224): Box => ({ x0: d.box[0] / side, y0: d.box[1] / side, x1: d.box[2] / side, y1: d.box[3] / side });

/** Indexes the photos through a catalogue whose `category` column names each one's subject. */
async function collectionOf(dir: string, categories: Record<keyof typeof PHOTOS, string>): Promise<{ c: Collection; ids: Record<keyof typeof PHOTOS, string> }> {
  const rows = Object.entries(PHOTOS).map(([k, f]) => `${path.join(FLICKR_TEST_IMAGES, f)},${categories[k as keyof typeof PHOTOS]}`);
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'photos.csv'), `path,category\n${rows.join('\n')}\n`);
  const c = await Collection.open({ db: path.join(dir, 'db'), create: true });
  await c.index([path.join(dir, 'photos.csv')]);
  const ids = Object.fromEntries(Object.entries(PHOTOS).map(([k, f]) => [k, contentId(fs.readFileSync(path.join(FLICKR_TEST_IMAGES, f)))])) as Record<
    keyof typeof PHOTOS,
    string
  >;
  const stages = await c.stagesData();
  await stages.categorizeItems({ predictor: { kind: 'zero-shot', categories: ['dog', 'person'] }, catalogueColumn: 'category' });
  return { c, ids };
}

/** The stored localisation boxes, by item id. */
async function storedBoxes(c: Collection): Promise<Map<string, { box: Box; found: boolean; method: string }>> {
  const side = await SideTables.open(c.store);
  const v = await side.readObjects();
  side.close();
  return new Map(
    v.ids.map((id, i) => [
      id,
      { box: { x0: v.boxes[4 * i]!, y0: v.boxes[4 * i + 1]!, x1: v.boxes[4 * i + 2]!, y1: v.boxes[4 * i + 3]! }, found: v.found[i] === 1, method: v.methods[i]! },
    ]),
  );
}

describe("localize --method objects: the detector's box, refined by colour", () => {
  const tmp = tempDir('visor-localize-objects-');
  afterAll(() => tmp.cleanup());

  describe('from the facts stored at index time', () => {
    let c: Collection;
    let ids: Record<keyof typeof PHOTOS, string>;
    /** What YOLOX-Nano finds in the three photos (scores ≥ 0.3), as the objects stage stores it. */
    const FOUND: Record<keyof typeof PHOTOS, Detection[]> = {
      dog: [
        { label: 'dog', score: 0.81, box: [5, 49, 149, 182] },
        { label: 'bird', score: 0.48, box: [178, 82, 213, 137] },
      ],
      bench: [
        { label: 'person', score: 0.84, box: [18, 47, 79, 177] },
        { label: 'person', score: 0.77, box: [66, 50, 156, 212] },
        { label: 'bench', score: 0.46, box: [2, 174, 154, 223] },
      ],
      walk: [
        { label: 'person', score: 0.83, box: [14, 48, 49, 160] },
        { label: 'person', score: 0.78, box: [136, 48, 169, 171] },
        { label: 'dog', score: 0.42, box: [72, 101, 115, 178] },
      ],
    };

    beforeAll(async () => {
      ({ c, ids } = await collectionOf(path.join(tmp.dir, 'stored'), { dog: 'dog', bench: 'dog', walk: 'dog' }));
      await c.setFactStages(['objects', 'colours']);
      const table = await c.store.sideTable('facts', { facts: 'string' });
      await table.put(
        Object.entries(FOUND).map(([k, objects]) => {
          const facts: ImageFacts = { stages: { objects: 'yolox-nano-coco' }, width: 224, height: 224, objects };
          return { id: ids[k as keyof typeof PHOTOS], facts: JSON.stringify(facts) };
        }),
      );
    }, 60_000);
    afterAll(() => c?.close());

    it("localises each photo's object inside the chosen detection: the category's when one matches, else the best", async () => {
      const s = await (await c.stagesData()).localizeItems({ method: 'objects' });
      expect(s).toMatchObject({ localized: 3, found: 3, failed: [] });
      const boxes = await storedBoxes(c);
      const dog = boxes.get(ids.dog)!;
      expect(dog).toMatchObject({ found: true, method: 'objects' });
      expect(iou(dog.box, frac(FOUND.dog[0]!))).toBeGreaterThan(0.6);
      // The walk's category is "dog": its dog, not the surer people on either side.
      expect(iou(boxes.get(ids.walk)!.box, frac(FOUND.walk[2]!))).toBeGreaterThan(0.5);
      // No dog on the bench: the best-scoring detection, the left-hand person.
      expect(iou(boxes.get(ids.bench)!.box, frac(FOUND.bench[0]!))).toBeGreaterThan(0.5);
      expect(c.store.manifest.settings.domain).toMatchObject({ localize: { method: 'objects' } });
    });
  });

  describe('with no objects stored: the detector runs on the images, and on the query image', () => {
    let c: Collection;
    let ids: Record<keyof typeof PHOTOS, string>;

    beforeAll(async () => {
      ({ c, ids } = await collectionOf(path.join(tmp.dir, 'detected'), { dog: 'dog', bench: 'bench', walk: 'dog' }));
    }, 60_000);
    afterAll(() => c?.close());

    it("localises by the detector's boxes, the same it reports for the image", async () => {
      expect((await c.facts(Object.values(ids))).get(ids.dog)?.objects).toBeUndefined(); // the objects stage is off
      const s = await (await c.stagesData()).localizeItems({ method: 'objects' });
      expect(s).toMatchObject({ localized: 3, found: 3, failed: [] });
      const boxes = await storedBoxes(c);
      const dogFacts = await c.imageFacts(path.join(FLICKR_TEST_IMAGES, PHOTOS.dog), { compute: ['objects'] });
      const dog = dogFacts!.objects!.find((o) => o.label === 'dog')!;
      expect(dog.score).toBeGreaterThan(0.5);
      expect(iou(boxes.get(ids.dog)!.box, frac(dog))).toBeGreaterThan(0.6);
      // The bench's category is "bench": the detector's bench, under the two people it is surer of.
      const benchFacts = await c.imageFacts(path.join(FLICKR_TEST_IMAGES, PHOTOS.bench), { compute: ['objects'] });
      const bench = benchFacts!.objects!.find((o) => o.label === 'bench')!;
      expect(benchFacts!.objects![0]!.label).toBe('person');
      expect(iou(boxes.get(ids.bench)!.box, frac(bench))).toBeGreaterThan(0.5);
    });

    it('a --localize search finds the object in the query image by the detector too', async () => {
      const r = await c.search({ images: [path.join(FLICKR_TEST_IMAGES, PHOTOS.dog)], stages: { localize: true }, k: 3 });
      expect(r.results[0]!.id).toBe(ids.dog);
      const object = r.stages?.object as { found: boolean; box: Box };
      expect(object.found).toBe(true);
      const facts = await c.imageFacts(path.join(FLICKR_TEST_IMAGES, PHOTOS.dog), { compute: ['objects'] });
      expect(iou(object.box, frac(facts!.objects!.find((o) => o.label === 'dog')!))).toBeGreaterThan(0.6);
    });
  });
});
