import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CIFAR_DIR, tempDir, visor } from './fixtures.js';

/**
 * `visor eval labels` beyond retrieval, on 60 CIFAR-10 test images of three classes with the
 * real models: the category classifier's cross-validated accuracy and confusion matrix, and the
 * label names as text queries (--zero-shot), one of them a name nothing understands.
 */
describe('visor eval labels: classifier and zero-shot', () => {
  const tmp = tempDir('visor-eval-labels-cls-');
  const catalogue = path.join(tmp.dir, 'labels.csv');
  const CLASSES: Record<string, string> = { cat: 'cat', ship: 'ship', truck: 'xqzv_17' }; // truck images under a made-up name

  beforeAll(() => {
    const rows = Object.entries(CLASSES).flatMap(([dir, label]) =>
      Array.from({ length: 20 }, (_, i) => `${path.join(CIFAR_DIR, 'test', dir, `${String(i).padStart(4, '0')}.jpg`)},${label}`),
    );
    fs.writeFileSync(catalogue, `path,kind\n${rows.join('\n')}\n`);
  });

  afterAll(() => tmp.cleanup());

  it('reports the cross-validated accuracy with its confusion matrix, and AP per label name', () => {
    const r = visor(['--json', 'eval', 'labels', catalogue, '--label', 'kind', '--zero-shot', '--progress', 'none']);
    expect(r.code, r.stderr).toBe(0);
    const json = JSON.parse(r.stdout);
    const c = json.classifier;
    expect(c.folds).toBe(5);
    expect(c.items).toBe(60);
    expect(c.categories).toEqual(['cat', 'ship', 'xqzv_17']);
    expect(c.confusion.map((row: number[]) => row.reduce((a, v) => a + v, 0))).toEqual([20, 20, 20]);
    const correct = c.confusion.reduce((a: number, row: number[], i: number) => a + row[i]!, 0);
    expect(c.accuracy).toBeCloseTo(correct / 60, 6);
    expect(c.accuracy).toBeGreaterThan(0.7); // chance is 1/3; 0.85 when written

    const z = json.zeroShot;
    expect(z.notUnderstood).toEqual(['xqzv_17']);
    const ap = Object.fromEntries(z.perLabel.map((l: { label: string; ap: number }) => [l.label, l.ap]));
    expect(ap.xqzv_17).toBe(0);
    // A third of the images are relevant to each name: chance AP is about 0.33.
    expect(ap.cat).toBeGreaterThan(0.5);
    expect(ap.ship).toBeGreaterThan(0.5);
    expect(z.map).toBeCloseTo((ap.cat + ap.ship) / 3, 6);
    expect(z.mapUnderstood).toBeCloseTo((ap.cat + ap.ship) / 2, 6);
  }, 180_000);

  it('prints both in the text output, says which name is not understood, and --no-classifier leaves the classifier out', () => {
    const r = visor(['eval', 'labels', catalogue, '--label', 'kind', '--zero-shot', '--progress', 'none']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^category classifier, 5-fold cross-validation on 60 images: accuracy \d\.\d{4}/m);
    expect(r.stdout).toMatch(/^cat +\d+ +\d+ +\d+$/m);
    expect(r.stdout).toMatch(/^xqzv_17 +20 +not understood$/m);
    expect(r.stderr).toMatch(/no signal understands the label name "xqzv_17"/);
    expect(r.stderr).not.toMatch(/INTERNAL/);

    const off = visor(['--json', 'eval', 'labels', catalogue, '--label', 'kind', '--no-classifier', '--progress', 'none']);
    expect(off.code, off.stderr).toBe(0);
    const json = JSON.parse(off.stdout);
    expect(json.classifier).toBeUndefined();
    expect(json.zeroShot).toBeUndefined();
  }, 180_000);

  it('one label only: the classifier is reported as not measured, with the reason', () => {
    const one = path.join(tmp.dir, 'one.csv');
    fs.writeFileSync(
      one,
      fs
        .readFileSync(catalogue, 'utf8')
        .split('\n')
        .filter((l, i) => i === 0 || l.endsWith(',cat'))
        .join('\n'),
    );
    const r = visor(['eval', 'labels', one, '--label', 'kind', '--zero-shot', '--progress', 'none']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/category classifier: not measured \(needs at least two labels with two images or more\)/);
    expect(r.stdout).toMatch(/zero-shot, .*: mAP \d\.\d{4}/);
    expect(r.stderr).not.toMatch(/INTERNAL/);
  }, 180_000);
});
