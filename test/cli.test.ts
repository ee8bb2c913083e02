import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { flickrTestImages, tempDir, visor, visorLab } from './fixtures.js';

describe('visor CLI', () => {
  const tmp = tempDir('visor-cli-');
  const photos = path.join(tmp.dir, 'photos');
  const db = path.join(tmp.dir, 'db');
  let files: string[];

  beforeAll(() => {
    fs.mkdirSync(path.join(photos, 'more'), { recursive: true });
    files = flickrTestImages(30).map((f, i) => {
      const dest = path.join(photos, i < 20 ? '' : 'more', path.basename(f));
      fs.copyFileSync(f, dest);
      return dest;
    });
    fs.writeFileSync(
      path.join(tmp.dir, 'catalogue.csv'),
      [
        'file,title,category,price',
        ...files.slice(0, 6).map((f, i) => `photos/${i < 20 ? '' : 'more/'}${path.basename(f)},Item ${i},${i < 3 ? 'red' : 'blue'},${i * 10}`),
      ].join('\n'),
    );
  });
  afterAll(() => tmp.cleanup());

  it('indexes a folder and a catalogue, then searches with and without filters', () => {
    const first = visor(['--db', db, 'index', photos, '--json', '--progress', 'none']);
    expect(first.code).toBe(0);
    const summary = JSON.parse(first.stdout);
    expect(summary).toMatchObject({ indexed: 30, skipped: [], totalItems: 30, interrupted: false });

    const cat = visor(['--db', db, 'index', path.join(tmp.dir, 'catalogue.csv'), '--json', '--progress', 'none']);
    expect(cat.code).toBe(0);
    expect(JSON.parse(cat.stdout)).toMatchObject({ indexed: 0, metadataUpdated: 6 });

    const search = visor(['--db', db, 'search', '--image', files[4]!, '-k', '3', '--json']);
    expect(search.code).toBe(0);
    const out = JSON.parse(search.stdout);
    expect(out.results).toHaveLength(3);
    expect(out.results[0]).toMatchObject({ rank: 1, path: files[4], meta: { title: 'Item 4', category: 'blue', price: 40 } });

    const filtered = JSON.parse(visor(['--db', db, 'search', '--image', files[4]!, '-k', '10', '--where', "category = 'red' AND price >= 10", '--json']).stdout);
    expect(filtered.results.map((r: { meta: { title: string } }) => r.meta.title).sort()).toEqual(['Item 1', 'Item 2']);

    const table = visor(['--db', db, 'search', '--image', files[4]!, '-k', '2']);
    expect(table.stdout).toMatch(/^#\s+score\s+path/m);
    expect(table.stdout).toContain('title=Item 4');
  });

  it('reports stats and removes a folder from the index', () => {
    const stats = JSON.parse(visor(['--db', db, 'stats', '--json']).stdout);
    expect(stats).toMatchObject({ items: 30, files: 30, imageModel: 'mobilenetv2-12-int8', dimension: 1280, search: 'exact' });
    expect(stats.metaColumns).toEqual({ title: 'string', category: 'string', price: 'number' });
    const removed = JSON.parse(visor(['--db', db, 'remove', path.join(photos, 'more'), '--json']).stdout);
    expect(removed).toMatchObject({ removedPaths: 10, removedItems: 10, notIndexed: [] });
    expect(JSON.parse(visor(['--db', db, 'stats', '--json']).stdout).items).toBe(20);
  });

  it('fails clearly, with exit code 2, on wrong input', () => {
    const noIndex = visor(['--db', path.join(tmp.dir, 'none'), 'stats']);
    expect(noIndex.code).toBe(2);
    expect(noIndex.stderr).toMatch(/no Visor index at .*visor index/);
    const badFilter = visor(['--db', db, 'search', '--image', files[0]!, '--where', 'price = = 1', '--json']);
    expect(badFilter.code).toBe(2);
    expect(JSON.parse(badFilter.stdout).error.code).toBe('FILTER_INVALID');
    const noQuery = visor(['--db', db, 'search']);
    expect(noQuery.code).toBe(2);
    expect(noQuery.stderr).toMatch(/give something to search for/);
    const badK = visor(['--db', db, 'search', '--image', files[0]!, '-k', 'zero']);
    expect(badK.code).toBe(2);
    expect(badK.stderr).toMatch(/-k must be a positive integer/);
    // A wrong command line is wrong input too: exit code 2, and with --json a JSON error on stdout.
    const badPixels = visor(['--db', db, 'index', files[0]!, '--max-pixels', '-1', '--json']);
    expect(badPixels.code).toBe(2);
    expect(JSON.parse(badPixels.stdout)).toEqual({
      error: { code: 'USAGE', message: expect.stringMatching(/--max-pixels must be a positive integer/) as string },
    });
    expect(visor(['search', '--no-such-option']).code).toBe(2);
    expect(visor(['--version']).code).toBe(0);
    const folder = visor(['--db', db, 'search', '--image', tmp.dir, '--json']);
    expect(folder.code).toBe(2);
    expect(JSON.parse(folder.stdout).error.message).toMatch(/is a folder/);
    const unknownEval = visorLab(['eval', 'imagenet']);
    expect(unknownEval.code).toBe(2);
    expect(unknownEval.stderr).toMatch(/available: cifar10/);
  });

  it('lists and verifies its models', () => {
    const list = JSON.parse(visor(['models', 'list', '--json']).stdout);
    const mobilenet = list.find((m: { id: string }) => m.id === 'mobilenetv2-12-int8');
    expect(mobilenet.files.every((f: { state: string }) => f.state === 'found')).toBe(true);
    const verify = visor(['models', 'verify', 'mobilenetv2-12-int8', '--json']);
    expect(verify.code).toBe(0);
    expect(JSON.parse(verify.stdout).every((r: { ok: boolean }) => r.ok)).toBe(true);
  });
});
