import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Collection } from '../src/collection.js';
import type { ImageFacts } from '../src/core/facts.js';
import { contentId } from '../src/ingest/read-image.js';
import { copyFlickrTestImages, tempDir, visor } from './fixtures.js';

/** Two people and a dog, with their colours; the image's colours; a sign read in it. */
const FACTS: ImageFacts = {
  stages: { objects: 'yolox-nano-coco', colours: 'lab-basic', text: 'ppocr-v4' },
  width: 224,
  height: 224,
  objects: [
    { label: 'person', score: 0.91, box: [10, 20, 80, 210], colours: [{ name: 'red', share: 0.4 }] },
    { label: 'dog', score: 0.88, box: [112, 90, 188, 156], colours: [{ name: 'brown', share: 0.6 }] },
    { label: 'person', score: 0.7, box: [130, 15, 170, 90], colours: [{ name: 'blue', share: 0.5 }] },
  ],
  colours: [
    { name: 'green', share: 0.45 },
    { name: 'blue', share: 0.2 },
  ],
  text: [
    { text: 'CLOSED', score: 0.9, box: [124, 5, 160, 15] },
    { text: 'PARK', score: 0.96, box: [90, 4, 120, 16] },
  ],
};

describe('visor tags and visor text read the facts stored with the items', () => {
  const tmp = tempDir('visor-facts-cli-');
  const db = path.join(tmp.dir, 'db');
  let files: string[];
  let ids: string[];

  beforeAll(async () => {
    files = copyFlickrTestImages(3, path.join(tmp.dir, 'images'));
    ids = files.map((f) => contentId(fs.readFileSync(f)));
    const c = await Collection.open({ db, create: true });
    await c.index([path.join(tmp.dir, 'images')], { facts: [] }); // facts come from the test, not the readers
    // As the index stores them: the `facts` side table, ImageFacts as JSON per item id, read for
    // the stages the collection has switched on.
    await c.setFactStages(['objects', 'colours', 'text']);
    const table = await c.store.sideTable('facts', { facts: 'string' });
    await table.put([{ id: ids[0]!, facts: JSON.stringify(FACTS) }]);
    await c.close();
  }, 60_000);

  afterAll(() => tmp.cleanup());

  it('tags --id lists the objects with counts and colours, the main colours and the text; --json carries the facts', () => {
    const r = visor(['--db', db, 'tags', '--id', ids[0]!.slice(0, 12)]);
    expect(r.code).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(new RegExp(`^${ids[0]}: \\S`));
    expect(lines.slice(1)).toEqual([
      '  objects: person ×2, dog ×1',
      '    person: red, blue',
      '    dog: brown',
      '  colours: green 45%, blue 20%',
      '  text: "PARK" "CLOSED"',
    ]);
    const json = JSON.parse(visor(['--db', db, '--json', 'tags', '--id', ids[0]!, ids[1]!]).stdout);
    expect(json[0].facts).toEqual(FACTS);
    expect(json[1].facts).toBeUndefined(); // no fact stage has run on it
    // A file whose content is indexed gets the stored facts too.
    expect(JSON.parse(visor(['--db', db, '--json', 'tags', files[0]!]).stdout)[0].facts).toEqual(FACTS);
  });

  it('text prints one line per text box in reading order, with its confidence; --json with the boxes', () => {
    const r = visor(['--db', db, 'text', files[0]!]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('PARK\t0.96\nCLOSED\t0.90\n');
    const json = JSON.parse(visor(['--db', db, '--json', 'text', '--id', ids[0]!]).stdout);
    expect(json).toEqual([{ image: ids[0], width: 224, height: 224, text: [FACTS.text![1], FACTS.text![0]] }]);
  });

  it('text reads a file no index holds, with no index at all', async () => {
    const sign = path.join(tmp.dir, 'sign.png');
    const svg =
      '<svg xmlns="http://www.w3.org/2000/svg" width="320" height="160"><rect width="320" height="160" fill="white"/>' +
      '<text x="160" y="100" text-anchor="middle" font-family="DejaVu Sans" font-size="48" fill="black">OPEN</text></svg>';
    await sharp(Buffer.from(svg)).png().toFile(sign);
    const r = visor(['--db', path.join(tmp.dir, 'no-index'), 'text', sign]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^OPEN\t(0\.9\d|1\.00)\n$/);
    const json = JSON.parse(visor(['--json', '--db', path.join(tmp.dir, 'no-index'), 'text', sign]).stdout);
    expect(json[0]).toMatchObject({ image: sign, width: 320, height: 160, text: [{ text: 'OPEN' }] });
    const [x1, y1, x2, y2] = json[0].text[0].box as number[];
    expect(x1).toBeLessThan(120);
    expect(x2).toBeGreaterThan(200);
    expect(y1).toBeGreaterThan(40);
    expect(y2).toBeLessThan(120);
    expect(fs.existsSync(path.join(tmp.dir, 'no-index'))).toBe(false); // reading text makes no index
  });

  it('an unknown id is wrong input (exit 2), in the usual words', () => {
    const r = visor(['--db', db, 'text', '--id', '0123456789ab']);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe('visor: no item with id 0123456789ab\n');
    const j = visor(['--db', db, '--json', 'text', '--id', '0'.repeat(32)]);
    expect(j.code).toBe(2);
    expect(JSON.parse(j.stdout)[0].error).toMatch(/no item with id/);
  });
});
