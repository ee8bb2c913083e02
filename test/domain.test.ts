import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateObjectScenes, OBJECTS, type SyntheticImage } from '../lab/eval/synthetic-objects.js';
import { flickrTestImages, tempDir, visor, visorLab } from './fixtures.js';

describe('domain stages through the CLI', () => {
  const tmp = tempDir('visor-domain-');
  const db = path.join(tmp.dir, 'db');
  let scenes: SyntheticImage[];

  beforeAll(async () => {
    // 8 packaging shapes × 4, pasted onto real photographs; the catalogue names the object.
    scenes = await generateObjectScenes(path.join(tmp.dir, 'images'), flickrTestImages(40), { perObject: 4, seed: 3 });
    fs.writeFileSync(path.join(tmp.dir, 'catalogue.csv'), ['path,object', ...scenes.map((s) => `${s.file},${OBJECTS[s.object]!.name}`)].join('\n'));
    expect(visor(['--db', db, 'index', path.join(tmp.dir, 'catalogue.csv'), '--progress', 'none']).code).toBe(0);
  });
  afterAll(() => tmp.cleanup());

  it('refuses stages the collection has not prepared, with a hint', () => {
    const r = visor(['--db', db, 'search', '--image', scenes[0]!.file, '--narrow']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/no categories: run 'visor categorize/);
    const l = visor(['--db', db, 'search', '--image', scenes[0]!.file, '--rerank']);
    expect(l.code).toBe(2);
    expect(l.stderr).toMatch(/not localised: run 'visor localize'/);
  });

  it('trains a classifier, categorises, localises, and searches with every stage', () => {
    const clf = path.join(tmp.dir, 'object-classifier.json');
    // --mirror: the images' mirrors are embedded and trained on; narrowed searches embed the query's mirror too.
    const train = visorLab(['--db', db, 'train', 'classify', '--column', 'object', '--folds', '2', '--mirror', '--out', clf, '--json', '--progress', 'none']);
    expect(train.code, train.stderr).toBe(0);
    const t = JSON.parse(train.stdout);
    expect(t).toMatchObject({ column: 'object', items: 32, unlabelled: 0, folds: 2, mirror: true });
    expect(t.categories).toEqual(OBJECTS.map((o) => o.name).sort());
    expect(t.accuracy).toBeGreaterThan(0.3); // chance: 0.125, with 16 training images for 8 objects
    expect(fs.existsSync(clf)).toBe(true);
    expect(fs.readFileSync(clf.replace(/\.json$/, '.confusion.svg'), 'utf8')).toMatch(/^<svg/);

    const cat = visor(['--db', db, 'categorize', '--model', clf, '--json', '--progress', 'none']);
    expect(cat.code, cat.stderr).toBe(0);
    expect(JSON.parse(cat.stdout)).toMatchObject({ categorized: 32, fromCatalogue: 0 });

    const loc = visor(['--db', db, 'localize', '--json', '--progress', 'none']);
    expect(loc.code, loc.stderr).toBe(0);
    const l = JSON.parse(loc.stdout);
    expect(l).toMatchObject({ localized: 32, unchanged: 0, failed: [] });
    expect(l.found).toBeGreaterThan(24);
    // Already done with the same method: nothing to redo.
    expect(JSON.parse(visor(['--db', db, 'localize', '--json', '--progress', 'none']).stdout)).toMatchObject({ localized: 0, unchanged: 32 });

    const q = scenes[5]!;
    const search = visor(['--db', db, 'search', '--image', q.file, '--narrow', '--localize', '--rerank', '-k', '5', '--json']);
    expect(search.code, search.stderr).toBe(0);
    const r = JSON.parse(search.stdout);
    expect(r.query.stages).toEqual({ narrow: true, localize: true, rerank: true });
    expect(r.results).toHaveLength(5);
    // The query is itself indexed: it comes first, its silhouette identical.
    expect(r.results[0]).toMatchObject({ path: q.file, rank: 1, why: { iou: 1, inChosenCategory: expect.any(Boolean) } });
    // What the stages found out about the query: its object and its predicted categories.
    expect(r.stages.object.found).toBe(true);
    expect(r.stages.categories.length).toBeGreaterThan(0);
    expect(Array.isArray(r.stages.searchedFirst)).toBe(true);

    const text = visor(['--db', db, 'search', '--image', q.file, '--localize', '-k', '3']);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/^object: found/m);
  });

  it('runs the prepared stages on images indexed later', async () => {
    const more = await generateObjectScenes(path.join(tmp.dir, 'more'), flickrTestImages(60).slice(40), { perObject: 1, seed: 9 });
    const r = visor(['--db', db, 'index', path.join(tmp.dir, 'more'), '--json', '--progress', 'none']);
    expect(r.code, r.stderr).toBe(0);
    const s = JSON.parse(r.stdout);
    expect(s.indexed).toBe(more.length);
    expect(s.stages[0]).toMatch(/^localised 8 new/);
    expect(s.stages[1]).toBe('categorised 8 new');
  });

  it('evaluates the localisation benchmark and writes its plots', () => {
    const out = path.join(tmp.dir, 'eval', 'objects.json');
    const r = visorLab(['--db', path.join(tmp.dir, 'bench'), 'eval', 'objects', '--limit', '2', '--out', out, '--json', '--progress', 'none']);
    expect(r.code, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(report.images).toBe(16);
    expect(Object.keys(report.retrieval)).toEqual(['plain', 'localize', 'rerank', 'localizeRerank']);
    expect(report.retrieval.plain.map).toBeGreaterThan(0);
    expect(report.localization.meanIoU).toBeGreaterThan(0.1);
    expect(fs.readFileSync(out.replace(/\.json$/, '.pr.svg'), 'utf8')).toContain('<polyline');
  });
});
