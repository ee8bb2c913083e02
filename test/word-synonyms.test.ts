import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Collection } from '../src/collection.js';
import { CIFAR_DIR, tempDir } from './fixtures.js';

/** CIFAR-10 test images of one class, the first `n` in file order. */
function cifar(label: string, n: number): string[] {
  const dir = path.join(CIFAR_DIR, 'test', label);
  return fs
    .readdirSync(dir)
    .sort()
    .slice(0, n)
    .map((f) => path.join(dir, f));
}

describe('words WordNet does not know, found through word vectors', () => {
  const tmp = tempDir('visor-synonyms-');
  let c: Collection;
  const planes = new Set(cifar('airplane', 15));
  const cars = new Set(cifar('automobile', 15));

  beforeAll(async () => {
    const others = ['bird', 'cat', 'deer', 'dog', 'frog', 'horse', 'ship', 'truck'].flatMap((l) => cifar(l, 5));
    const csv = path.join(tmp.dir, 'photos.csv');
    fs.writeFileSync(csv, ['path', ...planes, ...cars, ...others].join('\n'));
    c = await Collection.open({ db: path.join(tmp.dir, 'db'), create: true });
    await c.index([csv], { facts: [] });
  }, 300_000);
  afterAll(async () => {
    await c.close();
    tmp.cleanup();
  });

  /** Share of the top 10 results that are in `relevant`, and the first result's reason. */
  async function search(text: string, relevant: Set<string>) {
    const r = await c.search({ text, k: 10 });
    const paths = r.results.map((x) => x.path);
    return { precision: paths.filter((p) => relevant.has(p)).length / paths.length, why: r.results[0]?.why, signals: r.signals, understood: r.understood };
  }

  it('finds aeroplanes for "cessna" and says why (cessna ≈ airplane)', async () => {
    const r = await search('cessna', planes);
    const named = await search('airplane', planes);
    expect(r.understood).toBe(true);
    expect(r.signals.find((s) => s.name === 'concepts')?.note).toMatch(/^cessna ≈ airplane 0\.\d\d$/);
    expect((r.why!.concepts as Array<{ concept: string }>)[0]!.concept).toMatch(/^cessna ≈ airplane/);
    // As well as the class's own name does on 32-pixel photos, and well above chance (15 of 70).
    expect(r.precision).toBeGreaterThanOrEqual(named.precision);
    expect(r.precision).toBeGreaterThanOrEqual(0.4);
  });

  it('finds cars for "toyota", a make WordNet does not list', async () => {
    const r = await search('toyota', cars);
    expect(r.signals.find((s) => s.name === 'concepts')?.note).toMatch(/^toyota ≈ \w+ 0\.\d\d$/);
    expect(r.precision).toBeGreaterThanOrEqual(0.7);
  });
});
