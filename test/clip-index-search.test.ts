/**
 * Verification suite (c): tiny ONNX towers with CLIP's real interface, generated here, run
 * through the whole index → search path (library and CLI). Every expected figure is worked out
 * independently: the reference (transformers.js) preprocessing and tokenizer, then the towers'
 * functions in float64 (see tiny-clip.ts).
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Collection } from '../src/collection.js';
import { referencePixels, referenceProcessor, referenceTokenizer, testImages } from './clip-fixtures.js';
import { tempDir, visor } from './fixtures.js';
import { CONTEXT, expectedImageEmbedding, expectedTextEmbedding, writeTinyClipFolder } from './tiny-clip.js';

const EOS = 49407;
const QUERY = 'a dog running through the grass';

const dot = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
};

/** The tiny text tower's output for a text, from the reference tokenizer's ids. */
function expectedText(text: string): Float64Array {
  const ids = (referenceTokenizer()([text], { return_tensor: false }) as unknown as { input_ids: number[][] }).input_ids[0]!;
  return expectedTextEmbedding([...ids, ...Array<number>(CONTEXT - ids.length).fill(EOS)]);
}

interface Photo {
  file: string;
  /** The tiny vision tower's output, from the reference preprocessing. */
  embedding: Float64Array;
}

describe('suite (c): tiny CLIP towers through index → search', () => {
  const tmp = tempDir('visor-clip-search-');
  const photos = path.join(tmp.dir, 'photos');
  const later = path.join(tmp.dir, 'later');
  const modelDir = path.join(tmp.dir, 'tiny-clip');
  const db = path.join(tmp.dir, 'db');
  let all: Photo[];
  let collection: Collection;

  /** Files ranked by the expected cosine to a text, best first, with their scores. */
  const expectedRanking = (text: string, among: Photo[]) => {
    const t = expectedText(text);
    return among.map((p) => ({ file: p.file, score: dot(t, p.embedding) })).sort((a, b) => b.score - a.score);
  };

  beforeAll(async () => {
    writeTinyClipFolder(modelDir);
    fs.mkdirSync(photos, { recursive: true });
    fs.mkdirSync(later, { recursive: true });
    const processor = referenceProcessor();
    const images = await testImages(); // 12 images: every shape, size and format the preprocessing handles
    all = [];
    for (const [i, img] of images.entries()) {
      const ext = img.label.includes('png') ? 'png' : img.label.includes('webp') ? 'webp' : 'jpg';
      const file = path.join(i < 10 ? photos : later, `IMG_${String(i).padStart(4, '0')}.${ext}`);
      fs.writeFileSync(file, img.bytes);
      all.push({ file, embedding: expectedImageEmbedding(await referencePixels(processor, img.bytes)) });
    }
    // Concepts off: these checks compare rankings with CLIP's exact reference (concepts fuse in other tests).
    collection = await Collection.open({ db, create: true, concepts: false });
  });
  afterAll(async () => {
    await collection?.close();
    tmp.cleanup();
  });

  it('embeds every image into the model’s own space beside the image features, and ranks text queries by the text tower', async () => {
    const summary = await collection.index([photos], { space: modelDir, workers: 1, facts: [] });
    expect(summary.indexed).toBe(10);
    expect(summary.spaces).toEqual([{ space: 'tiny-clip', embedded: 10, already: 0, skipped: [], interrupted: false }]);
    const stats = await collection.stats();
    expect(stats.spaces).toEqual([{ name: 'tiny-clip', model: 'tiny-clip', dimension: 512, items: 10 }]);
    expect([stats.imageModel, stats.dimension]).toEqual(['mobilenetv2-12-int8', 1280]);

    const inIndex = all.slice(0, 10);
    const want = expectedRanking(QUERY, inIndex);
    // The ranking must be decided by the model, not by float noise: neighbours differ clearly.
    for (let i = 1; i < want.length; i++) expect(want[i - 1]!.score - want[i]!.score).toBeGreaterThan(1e-5);
    const r = await collection.search({ text: QUERY, k: 10 });
    expect(r.understood).toBe(true);
    expect(r.fusion).toBe('single'); // no file name holds these words: CLIP alone answers
    expect(r.signals).toContainEqual({ name: 'clip', understood: true, note: undefined });
    expect(r.results.map((x) => x.path)).toEqual(want.map((w) => w.file));
    const worst = Math.max(...r.results.map((x, i) => Math.max(Math.abs(x.score - want[i]!.score), Math.abs(x.why.clip! - want[i]!.score))));
    expect(worst).toBeLessThan(1e-5);
    console.log(`suite (c) library: 10 images, "${QUERY}": ranking equal to the float64 reference; max |score − expected| = ${worst.toExponential(2)}`);

    // A query image in the CLIP space finds itself first, then the others in cosine order.
    const q = all[3]!;
    const hits = await collection.searchImage(q.file, { space: 'tiny-clip', k: 10 });
    const byImage = inIndex.map((p) => ({ file: p.file, score: dot(q.embedding, p.embedding) })).sort((a, b) => b.score - a.score);
    expect(hits[0]!.path).toBe(q.file);
    expect(hits[0]!.score).toBeCloseTo(1, 5);
    expect(Math.max(...hits.map((h, i) => Math.abs(h.score - byImage[i]!.score)))).toBeLessThan(1e-5);
  });

  it('fuses the CLIP signal with keywords, and keeps the space in step: new images only, removals cascade', async () => {
    // Keyword match + CLIP: a file named for the words is found first whatever CLIP says of it.
    const lastByClip = expectedRanking('beach', all.slice(0, 10)).at(-1)!.file;
    const beach = path.join(path.dirname(lastByClip), `beach${path.extname(lastByClip)}`);
    fs.renameSync(lastByClip, beach);
    let summary = await collection.index([photos, later], { workers: 1 });
    expect([summary.indexed, summary.spaces[0]!.embedded, summary.spaces[0]!.already]).toEqual([2, 2, 10]); // renamed: same content, no embedding
    let r = await collection.search({ text: 'beach', k: 3 });
    expect(r.fusion).toBe('rrf');
    expect(r.results[0]!.path).toBe(beach);
    expect(r.results[0]!.why.keywords?.words).toEqual(['beach']);
    expect(r.results[0]!.why.clip).toBeCloseTo(expectedRanking('beach', all).find((x) => x.file === lastByClip)!.score, 5);

    // The two later images take part in text search too.
    r = await collection.search({ text: QUERY, k: 12 });
    expect(r.results.map((x) => path.basename(x.path))).toEqual(expectedRanking(QUERY, all).map((w) => path.basename(w.file === lastByClip ? beach : w.file)));

    // Removing files removes their vectors from every space.
    const removed = await collection.remove([later]);
    expect(removed.removedItems).toBe(2);
    expect((await collection.stats()).spaces[0]!.items).toBe(10);
    summary = await collection.index([photos], { workers: 1 });
    expect(summary.spaces).toEqual([{ space: 'tiny-clip', embedded: 0, already: 10, skipped: [], interrupted: false }]);
  });

  it('from the command line: visor index --model <folder>, then visor search "<text>"', () => {
    const cliDb = path.join(tmp.dir, 'cli-db');
    const idx = visor(['--db', cliDb, '--json', 'index', later, photos, '--space', modelDir, '--workers', '1', '--no-facts', '--progress', 'none']);
    expect(idx.stderr).toBe('');
    expect(idx.code).toBe(0);
    const summary = JSON.parse(idx.stdout) as { spaces: Array<{ space: string; embedded: number }> };
    expect(summary.spaces).toMatchObject([{ space: 'tiny-clip', embedded: 12 }]);

    const s = visor(['--db', cliDb, '--json', 'search', ...QUERY.split(' '), '-k', '12', '--weights', 'concepts=0']);
    expect(s.code).toBe(0);
    const out = JSON.parse(s.stdout) as { results: Array<{ path: string; score: number }> };
    const want = expectedRanking(
      QUERY,
      all.map((p) => ({ ...p, file: fs.existsSync(p.file) ? p.file : path.join(photos, `beach${path.extname(p.file)}`) })),
    );
    expect(out.results.map((x) => x.path)).toEqual(want.map((w) => w.file));
    const worst = Math.max(...out.results.map((x, i) => Math.abs(x.score - want[i]!.score)));
    expect(worst).toBeLessThan(1e-5);
    console.log(`suite (c) CLI: 12 images, top ${path.basename(out.results[0]!.path)}; max |score − expected| = ${worst.toExponential(2)}`);

    const text = visor(['--db', cliDb, 'search', 'dog']);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/clip -?0\.\d\d/);
    const byImage = visor(['--db', cliDb, '--json', 'search', '--image', all[2]!.file, '--space', 'tiny-clip', '-k', '1']);
    expect(JSON.parse(byImage.stdout)).toMatchObject({ results: [{ path: all[2]!.file, why: { visual: expect.closeTo(1, 5) } }] });
    const stats = visor(['--db', cliDb, 'stats']);
    expect(stats.stdout).toMatch(/space tiny-clip\s+tiny-clip \(512-d, 12 images\)/);
    const bad = visor(['--db', cliDb, 'index', photos, '--space', 'no-such-model']);
    expect([bad.code, bad.stderr]).toEqual([2, expect.stringMatching(/unknown model "no-such-model"/)]);
  });
});
