import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readTriplets } from '../lab/train/compose/triplets.js';
import { generateCss, type CssDataset } from '../lab/eval/css/generate.js';
import { COLOURS, POSITIONS, modify, referTo, sceneKey, type Scene } from '../lab/eval/css/scene.js';
import { rng } from '../lab/random.js';
import { tempDir } from './fixtures.js';

/** Scene keys are 9 cells of 3 digits (shape, colour, size) or '---'. */
const cells = (key: string) => key.match(/.{3}/g)!;
const diff = (a: string, b: string) => cells(a).flatMap((c, i) => (c !== cells(b)[i] ? [i] : []));

describe('CSS-style benchmark generator', () => {
  const tmp = tempDir('visor-css-gen-');
  let ds: CssDataset;
  beforeAll(async () => {
    ds = await generateCss(tmp.dir, { trainQueries: 300, testQueries: 150, seed: 11 });
  });
  afterAll(() => tmp.cleanup());

  it('writes one PNG per distinct scene and triplet files the trainer reads', async () => {
    for (const split of [ds.train, ds.test]) {
      expect(new Set(split.images).size).toBe(split.images.length);
      expect(new Set(split.sceneOf.values()).size).toBe(split.images.length);
      // Chains of 5: about 1.2 images per query.
      expect(split.images.length / split.queries.length).toBeGreaterThan(1.1);
      expect(split.images.length / split.queries.length).toBeLessThan(1.35);
    }
    expect(ds.train.queries).toHaveLength(300);
    expect(ds.test.queries).toHaveLength(150);
    const meta = await sharp(path.join(ds.imagesDir, ds.test.images[0]!)).metadata();
    expect([meta.width, meta.height, meta.format]).toEqual([64, 64, 'png']);
    const triplets = readTriplets(ds.train.triplets, ds.imagesDir);
    expect(triplets).toHaveLength(300);
    expect(triplets[0]).toEqual({
      reference: path.join(ds.imagesDir, ds.train.queries[0]!.reference),
      text: ds.train.queries[0]!.text,
      target: path.join(ds.imagesDir, ds.train.queries[0]!.target),
    });
    for (const t of triplets.slice(0, 20)) expect(fs.existsSync(t.target)).toBe(true);
  });

  it('keeps train and test scenes disjoint', () => {
    const train = new Set(ds.train.sceneOf.values());
    for (const key of ds.test.sceneOf.values()) expect(train.has(key)).toBe(false);
  });

  it('makes every target the reference with exactly the change its text names', () => {
    const kinds = new Set<string>();
    for (const split of [ds.train, ds.test]) {
      for (const q of split.queries) {
        kinds.add(q.kind);
        const ref = split.sceneOf.get(q.reference)!;
        const tgt = split.sceneOf.get(q.target)!;
        const changed = diff(ref, tgt);
        expect(changed).toHaveLength(1);
        const [before, after] = [cells(ref)[changed[0]!]!, cells(tgt)[changed[0]!]!];
        if (q.kind === 'add') {
          expect(before).toBe('---');
          expect(q.text).toContain(`at the ${POSITIONS[changed[0]!]}`);
        } else if (q.kind === 'remove') {
          expect(after).toBe('---');
          expect(q.text).toMatch(/^remove the /);
        } else {
          const attr = { shape: 0, colour: 1, size: 2 }[q.kind as 'shape' | 'colour' | 'size'];
          expect([0, 1, 2].filter((i) => before[i] !== after[i])).toEqual([attr]);
          expect(q.text).toMatch(/^make the /);
        }
      }
    }
    expect([...kinds].sort()).toEqual(['add', 'colour', 'remove', 'shape', 'size']);
  });

  it('is reproducible from its seed and differs with another', async () => {
    const again = tempDir('visor-css-gen2-');
    try {
      const same = await generateCss(again.dir, { trainQueries: 300, testQueries: 150, seed: 11 });
      expect(same.test.queries).toEqual(ds.test.queries);
      expect(fs.readFileSync(path.join(same.imagesDir, same.test.images[7]!))).toEqual(fs.readFileSync(path.join(ds.imagesDir, ds.test.images[7]!)));
      const other = await generateCss(path.join(again.dir, 'other'), { trainQueries: 30, testQueries: 10, seed: 12 });
      expect(other.train.queries.slice(0, 10)).not.toEqual(ds.train.queries.slice(0, 10));
    } finally {
      again.cleanup();
    }
  });

  it('names objects unambiguously, adding size and position only when needed', () => {
    const red = { shape: 'circle', colour: 'red', size: 'small' } as const;
    const scene: Scene = [red, { ...red, size: 'large' }, null, { ...red }, null, null, { shape: 'square', colour: 'blue', size: 'large' }, null, null];
    expect(referTo(scene, 6)).toBe('blue square');
    expect(referTo(scene, 1)).toBe('large red circle');
    expect(referTo(scene, 0)).toBe('small red circle at the top-left');
    const m = modify(scene, 'colour', rng(3))!;
    expect(m.text).toMatch(/^make the (blue square|large red circle|small red circle at the (top-left|left)) (gray|red|blue|green|brown|purple|cyan|yellow)$/);
    expect(sceneKey(m.target)).not.toBe(sceneKey(scene));
    expect(Object.keys(COLOURS)).toHaveLength(8);
  });
});
