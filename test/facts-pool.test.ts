/**
 * The facts pass as `visor index` runs it: worker threads with the real readers of every stage
 * this build has, over good images and the bad-files corpus, on a LanceDB collection.
 */
import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Collection } from '../src/collection.js';
import { BUILT_READERS } from '../src/facts/readers.js';
import { bombPng, copyFlickrTestImages, flickrTestImages, tempDir, visor } from './fixtures.js';

describe.skipIf(BUILT_READERS.length === 0)('facts through the worker pool', () => {
  const tmp = tempDir('visor-facts-pool-');
  const photos = path.join(tmp.dir, 'photos');
  let good = 0;

  beforeAll(async () => {
    good = copyFlickrTestImages(4, photos).length;
    const [src] = flickrTestImages(5).slice(4);
    // A phone photo stored sideways: EXIF orientation 6, displayed 480 wide and 640 tall.
    await sharp(src!).resize(640, 480, { fit: 'fill' }).withMetadata({ orientation: 6 }).jpeg().toFile(path.join(photos, 'sideways.jpg'));
    good++;
    const whole = fs.readFileSync(src!);
    fs.writeFileSync(path.join(photos, 'truncated.jpg'), whole.subarray(0, whole.length >> 1));
    fs.writeFileSync(path.join(photos, 'empty.jpg'), '');
    fs.writeFileSync(path.join(photos, 'notes.jpg'), 'Shopping list:\n- milk\n'.repeat(20));
    fs.writeFileSync(path.join(photos, 'bomb.png'), bombPng());
  });
  afterAll(() => tmp.cleanup());

  it('computes every stage for the good images, skips the bad ones, and a re-run computes nothing', async () => {
    const c = await Collection.open({ db: path.join(tmp.dir, 'db'), create: true });
    try {
      const s = await c.index([photos], { facts: [...BUILT_READERS], workers: 2 });
      expect(s.indexed).toBe(good);
      expect(s.skipped).toHaveLength(4);
      expect(s.facts).toMatchObject({ stages: BUILT_READERS, computed: good, skipped: [], interrupted: false });
      expect(await c.factStages()).toEqual(BUILT_READERS);

      const items = await c.items((await c.store.vectors()).ids);
      const facts = await c.facts(items.map((i) => i.id));
      expect(facts.size).toBe(good);
      for (const item of items) {
        const f = facts.get(item.id)!;
        expect(Object.keys(f.stages)).toEqual(BUILT_READERS);
        expect([f.width, f.height]).toEqual([item.width, item.height]);
        for (const o of [...(f.objects ?? []), ...(f.text ?? [])]) {
          expect(o.box[2]).toBeLessThanOrEqual(item.width + 0.5);
          expect(o.box[3]).toBeLessThanOrEqual(item.height + 0.5);
        }
      }
      expect(items.find((i) => i.path.endsWith('sideways.jpg'))).toMatchObject({ width: 480, height: 640 });

      const again = await c.index([photos]);
      expect(again.facts).toMatchObject({ computed: 0, already: good });
    } finally {
      await c.close();
    }
  });

  it('visor index --facts <every stage>: exit 0, the summary in --json; --no-facts computes none', () => {
    const db = path.join(tmp.dir, 'db-cli');
    const r = visor(['--db', db, 'index', photos, '--facts', BUILT_READERS.join(','), '--json', '--progress', 'none']);
    expect(r.code, r.stderr).toBe(0);
    const summary = JSON.parse(r.stdout) as { skipped: unknown[]; facts: { computed: number; stages: string[] } };
    expect(summary.skipped).toHaveLength(4);
    expect(summary.facts).toMatchObject({ computed: good, stages: BUILT_READERS });
    const off = visor(['--db', path.join(tmp.dir, 'db-off'), 'index', photos, '--no-facts', '--progress', 'none']);
    expect(off.code, off.stderr).toBe(0);
    expect(off.stdout).not.toMatch(/Facts/);
  });
});
