/**
 * The tiny CLIP towers (tiny-clip.ts) as the *main* model of a new collection, end to end:
 * indexing, image → image, text → image, zero-shot composed queries, tags, the CLI and the
 * HTTP API. Every expected figure is worked out independently of the product: the reference
 * (transformers.js) preprocessing and tokenizer, then the towers' functions in float64, then
 * the cosines, the composition and the softmax over the class prompts in float64.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Collection } from '../src/collection.js';
import { contentId } from '../src/ingest/read-image.js';
import { ClipModel } from '../src/models/clip/clip-model.js';
import { vocabularyProbabilities } from '../src/concepts/tower-tags.js';
import { startServer, type RunningServer } from '../src/server/start.js';
import { referencePixels, referenceProcessor, referenceTokenizer, testImages } from './clip-fixtures.js';
import { tempDir, visor } from './fixtures.js';
import { form } from './server-helpers.js';
import { CONTEXT, expectedImageEmbedding, expectedTextEmbedding, writeTinyClipFolder } from './tiny-clip.js';

const EOS = 49407;
const QUERY = 'a dog running through the grass';
const COMPOSE = 'with a red ball';
const COMPOSE_WEIGHT = 0.7;
const TOL = 1e-5;

const dot = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
};
const normalised = (v: ArrayLike<number>): Float64Array => {
  const n = Math.sqrt(dot(v, v));
  return Float64Array.from(v, (x) => x / n);
};

const tokenizer = referenceTokenizer();
/** The tiny text tower's output for a text, from the reference tokenizer's ids, padded with the end token. */
function expectedText(text: string): Float64Array {
  const ids = (tokenizer([text], { return_tensor: false }) as unknown as { input_ids: number[][] }).input_ids[0]!;
  return expectedTextEmbedding([...ids, ...Array<number>(CONTEXT - ids.length).fill(EOS)]);
}

interface Photo {
  file: string;
  id: string;
  /** The tiny vision tower's output from the reference preprocessing, unit length (float64). */
  embedding: Float64Array;
}

interface Expected {
  file: string;
  score: number;
}

/** Photos ranked by their float64 cosine with a unit query vector, best first. */
function rankBy(query: Float64Array, among: readonly Photo[]): Expected[] {
  return among.map((p) => ({ file: p.file, score: dot(query, p.embedding) })).sort((a, b) => b.score - a.score);
}

/**
 * Same files in the same (strict) order, scores within TOL; returns the largest |error|. The
 * expected ranking must be decided by the model, not by float noise: neighbours differ clearly.
 */
function expectRanking(actual: ReadonlyArray<{ path: string; score: number }>, want: readonly Expected[], label: string): number {
  for (let i = 1; i < want.length; i++) expect(want[i - 1]!.score - want[i]!.score, `${label}: reference gap at ${i}`).toBeGreaterThan(10 * TOL);
  expect(
    actual.map((x) => x.path),
    label,
  ).toEqual(want.map((w) => w.file));
  const worst = Math.max(...actual.map((x, i) => Math.abs(x.score - want[i]!.score)));
  expect(worst, label).toBeLessThanOrEqual(TOL);
  return worst;
}

/** Same tags in the same order (synset and kind), confidences within TOL; returns the largest |error|. */
function compareTags(
  got: ReadonlyArray<{ synset: string; kind: string; confidence: number }>,
  want: ReadonlyArray<{ synset: string; kind: string; confidence: number }>,
): number {
  expect(got.map((g) => [g.synset, g.kind])).toEqual(want.map((g) => [g.synset, g.kind]));
  const worst = Math.max(...got.map((g, i) => Math.abs(g.confidence - want[i]!.confidence)));
  expect(worst).toBeLessThanOrEqual(TOL);
  return worst;
}

describe('the tiny CLIP pair as the main model of a collection, against a float64 reference', () => {
  const tmp = tempDir('visor-clip-main-');
  const photosDir = path.join(tmp.dir, 'photos');
  const modelDir = path.join(tmp.dir, 'tiny-clip');
  const db = path.join(tmp.dir, 'db');
  let photos: Photo[];
  let collection: Collection | undefined;
  let server: RunningServer | undefined;
  const errors: Record<string, number> = {};
  /** Tags (TAG_OPTIONS) the reference probabilities give, by file, with each tag's expected confidence. */
  const expectedTags = new Map<string, Array<{ synset: string; kind: string; confidence: number }>>();
  const TAG_OPTIONS = { k: 8, minConfidence: 0.01 };

  beforeAll(async () => {
    writeTinyClipFolder(modelDir);
    fs.mkdirSync(photosDir, { recursive: true });
    const processor = referenceProcessor();
    // Ten images of every shape, size and format the preprocessing handles, named so that no query word is in a file name.
    const images = (await testImages()).slice(0, 10);
    photos = [];
    for (const [i, img] of images.entries()) {
      const ext = img.label.includes('png') ? 'png' : img.label.includes('webp') ? 'webp' : 'jpg';
      const file = path.join(photosDir, `IMG_${String(i).padStart(4, '0')}.${ext}`);
      fs.writeFileSync(file, img.bytes);
      photos.push({ file, id: contentId(img.bytes), embedding: expectedImageEmbedding(await referencePixels(processor, img.bytes)) });
    }
    collection = await Collection.open({ db, create: true, imageModel: modelDir });
  });
  afterAll(async () => {
    await collection?.close();
    await server?.close();
    console.log(`clip main model: max |score − expected| per check: ${JSON.stringify(errors)}`);
    tmp.cleanup();
  });

  it('1. indexes every image into the main space of the tiny model (512-d, no classes)', async () => {
    const c = collection!;
    expect(c.capabilities).toEqual({ imageEmbedding: true, classes: 0, textTower: true });
    const summary = await c.index([photosDir], { workers: 1, facts: [] });
    expect([summary.indexed, summary.spaces]).toEqual([10, []]);
    const stats = await c.stats();
    expect(stats).toMatchObject({ imageModel: 'tiny-clip', dimension: 512, items: 10, files: 10, spaces: [] });
    expect(c.store.manifest.numClasses).toBe(0);

    // The stored vectors are the tower's embeddings of the reference preprocessing.
    const stored = await c.store.getItemsWithVectors(photos.map((p) => p.id));
    expect(stored.map((s) => s.id)).toEqual(photos.map((p) => p.id));
    let worst = 0;
    for (const [i, s] of stored.entries()) {
      expect(s.vector.length).toBe(512);
      expect(s.probs.length).toBe(0);
      for (let j = 0; j < 512; j++) worst = Math.max(worst, Math.abs(s.vector[j]! - photos[i]!.embedding[j]!));
    }
    expect(worst).toBeLessThanOrEqual(TOL);
    errors.index = worst;
    console.log(`1 index: 10 images, tiny-clip 512-d; max |stored − expected| (per component) = ${worst.toExponential(2)}`);
  });

  it('2. image → image: cosines of the normalised embeddings, the query image itself first', async () => {
    const c = collection!;
    let worst = 0;
    for (const q of [photos[3]!, photos[7]!]) {
      const hits = await c.searchImage(q.file, { k: 10 });
      const want = rankBy(q.embedding, photos);
      expect(hits[0]!.path).toBe(q.file);
      expect(hits[0]!.score).toBeCloseTo(1, 5);
      // The top one is the query itself (≈1); the others must be ranked strictly.
      worst = Math.max(worst, expectRanking(hits, want, `image ${path.basename(q.file)}`));
      const r = await c.search({ images: [q.file], k: 10 });
      expect([r.fusion, r.signals]).toEqual(['single', [{ name: 'visual', understood: true }]]);
      expect(r.results.map((x) => x.path)).toEqual(hits.map((h) => h.path));
    }
    errors.imageToImage = worst;
    console.log(`2 image→image: 2 queries × 10 images, ranking equal; max |score − expected| = ${worst.toExponential(2)}`);
  });

  it('3. text → image: the main model’s text tower alone (the clip signal), no concepts', async () => {
    const c = collection!;
    let worst = 0;
    for (const text of [QUERY, 'a red car']) {
      const want = rankBy(expectedText(text), photos);
      const r = await c.search({ text, k: 10 });
      expect(r.understood).toBe(true);
      expect(r.fusion).toBe('single');
      // Keywords find nothing in these file names; a model with no classes has no concepts signal.
      expect(r.signals).toEqual([
        { name: 'keywords', understood: false, note: 'no file name or catalogue field contains these words' },
        { name: 'clip', understood: true, note: undefined },
      ]);
      worst = Math.max(worst, expectRanking(r.results, want, text));
      worst = Math.max(worst, ...r.results.map((x, i) => Math.abs(x.why.clip! - want[i]!.score)));
      expect(Object.keys(r.results[0]!.why)).toEqual(['clip']);

      // With keywords switched off, the same answer.
      const off = await c.search({ text, k: 10, weights: { keywords: 0 } });
      expect(off.fusion).toBe('single');
      expect(off.signals.map((s) => s.name)).toEqual(['keywords', 'clip']);
      expect(off.results.map((x) => [x.path, x.score])).toEqual(r.results.map((x) => [x.path, x.score]));
    }
    errors.textToImage = worst;
    console.log(`3 text→image: "${QUERY}", "a red car" × 10 images, clip alone, ranking equal; max |score − expected| = ${worst.toExponential(2)}`);
  });

  it('4. composed: normalise(normalise(ref) + w · normalise(text)) scored against the images', async () => {
    const c = collection!;
    let worst = 0;
    const t = expectedText(COMPOSE);
    for (const [q, weight] of [
      [photos[2]!, COMPOSE_WEIGHT],
      [photos[5]!, 1],
      [photos[5]!, 3],
    ] as const) {
      const composed = normalised(q.embedding.map((x, i) => x + weight * t[i]!));
      const want = rankBy(composed, photos);
      const r = await c.search({ images: [q.file], compose: { text: COMPOSE, weight }, k: 10 });
      expect(r.fusion).toBe('single');
      expect(r.signals).toEqual([{ name: 'composed', understood: true, note: 'zero-shot' }]);
      worst = Math.max(worst, expectRanking(r.results, want, `${path.basename(q.file)} + ${weight}·"${COMPOSE}"`));
      worst = Math.max(worst, ...r.results.map((x, i) => Math.abs((x.why.composed as number) - want[i]!.score)));
      // The composition moves the query: not the image's own ranking.
      expect(r.results.map((x) => x.path)).not.toEqual(rankBy(q.embedding, photos).map((w) => w.file));
    }
    // The default weight is 1.
    const d = await c.search({ images: [photos[5]!.file], compose: { text: COMPOSE }, k: 10 });
    expectRanking(d.results, rankBy(normalised(photos[5]!.embedding.map((x, i) => x + t[i]!)), photos), 'default weight');
    errors.composed = worst;
    console.log(`4 composed: 3 queries (w = 0.7, 1, 3) × 10 images, ranking equal; max |score − expected| = ${worst.toExponential(2)}`);
  });

  it('5. tags: the softmax of 100 · cosine over the class prompts, read through the concept space', async () => {
    const c = collection!;
    const { space, tagger } = await c.conceptModel();
    expect(space.numClasses).toBe(1000);
    // The class prompts in float64, from the reference tokenizer.
    const classes = space.classSynsets.map((s) => expectedText(`a photo of a ${s.lemmas[0]}.`));
    const referenceProbs = (image: Float64Array): Float64Array => {
      const logits = classes.map((e) => 100 * dot(image, e));
      const max = Math.max(...logits);
      const exp = logits.map((l) => Math.exp(l - max));
      const total = exp.reduce((a, x) => a + x, 0);
      return Float64Array.from(exp, (x) => x / total);
    };

    // The probability vector itself, from a stored vector and the model's text tower.
    const tower = await ClipModel.load(modelDir, { towers: ['text'] });
    let worstProbs = 0;
    let worstTags = 0;
    try {
      for (const p of photos.slice(0, 3)) {
        const [item] = await c.store.getItemsWithVectors([p.id]);
        const probs = await vocabularyProbabilities(space, item!.vector, tower);
        const want = referenceProbs(p.embedding);
        expect(probs.length).toBe(1000);
        for (let i = 0; i < 1000; i++) worstProbs = Math.max(worstProbs, Math.abs(probs[i]! - want[i]!));
      }
    } finally {
      await tower.close();
    }
    expect(worstProbs).toBeLessThanOrEqual(TOL);

    // collection.tags from a file (encoded again) and from an indexed item: the tags the
    // reference probabilities give, each tag's confidence the mass of the classes under it.
    for (const p of photos) {
      const want = referenceProbs(p.embedding);
      const expected = tagger.tags(Float32Array.from(want), TAG_OPTIONS).map((g) => {
        // A tag's confidence is the mass of the classes under it (those below the tagger's negligible 1e-4 left out).
        const mass = space.classesUnder(space.wordnet.synset(g.synset)).reduce((a, cls) => a + (want[cls]! >= 1e-4 ? want[cls]! : 0), 0);
        return { synset: g.synset, kind: g.kind, confidence: Math.min(1, mass) };
      });
      expect(expected.length).toBeGreaterThan(1);
      expectedTags.set(p.file, expected);
      for (const got of [await c.tags(p.file, TAG_OPTIONS), await c.tags({ id: p.id }, TAG_OPTIONS)]) worstTags = Math.max(worstTags, compareTags(got, expected));
    }
    expect(worstTags).toBeLessThanOrEqual(TOL);
    errors.tagProbabilities = worstProbs;
    errors.tags = worstTags;
    const example = await c.tags(photos[0]!.file);
    console.log(
      `5 tags: probability vector (3 images × 1000 classes) max |p − expected| = ${worstProbs.toExponential(2)}; ` +
        `tags of 10 images (file and id) max |confidence − expected| = ${worstTags.toExponential(2)}; e.g. ${example.map((t) => `${t.label} ${t.confidence.toFixed(3)}`).join(', ')}`,
    );
  });

  it('6. HTTP: a text query (JSON, on a search worker) and an uploaded image give the reference ranking and scores', async () => {
    await collection!.close();
    collection = undefined;
    server = await startServer({ db, host: '127.0.0.1', port: 0, searchWorkers: 1, searchCacheSize: 0 });
    const byId = new Map(photos.map((p) => [p.id, p.file]));
    const post = async (body: RequestInit['body'], json: boolean) => {
      const res = await fetch(`${server!.url}/api/search`, { method: 'POST', body, ...(json ? { headers: { 'content-type': 'application/json' } } : {}) });
      const out = (await res.json()) as {
        results: Array<{ id: string; score: number; why: Record<string, unknown> }>;
        fusion: string;
        signals: Array<{ name: string }>;
      };
      expect(res.status, JSON.stringify(out)).toBe(200);
      return out;
    };
    let worst = 0;

    const text = await post(JSON.stringify({ text: QUERY, k: 10 }), true);
    expect([text.fusion, text.signals.map((s) => s.name)]).toEqual(['single', ['keywords', 'clip']]);
    worst = Math.max(
      worst,
      expectRanking(
        text.results.map((r) => ({ path: byId.get(r.id)!, score: r.score })),
        rankBy(expectedText(QUERY), photos),
        'HTTP text',
      ),
    );

    const q = photos[6]!;
    const image = await post(form([{ field: 'image', bytes: fs.readFileSync(q.file) }], { k: 10 }), false);
    expect(image.results[0]!.id).toBe(q.id);
    worst = Math.max(
      worst,
      expectRanking(
        image.results.map((r) => ({ path: byId.get(r.id)!, score: r.score })),
        rankBy(q.embedding, photos),
        'HTTP image',
      ),
    );

    const composed = await post(form([{ field: 'image', bytes: fs.readFileSync(q.file) }], { k: 10, compose: { text: COMPOSE, weight: COMPOSE_WEIGHT } }), false);
    const t = expectedText(COMPOSE);
    const want = rankBy(normalised(q.embedding.map((x, i) => x + COMPOSE_WEIGHT * t[i]!)), photos);
    worst = Math.max(
      worst,
      expectRanking(
        composed.results.map((r) => ({ path: byId.get(r.id)!, score: r.score })),
        want,
        'HTTP composed',
      ),
    );
    errors.http = worst;
    console.log(
      `6 HTTP: text (search worker), uploaded image and composed upload × 10 images, ranking equal; max |score − expected| = ${worst.toExponential(2)}`,
    );
  });

  it('the CLI: visor index --model <folder>, stats, search by text and by image, tags by id and of files with --db', () => {
    const cliDb = path.join(tmp.dir, 'cli-db');
    const idx = visor(['--db', cliDb, '--json', 'index', photosDir, '--model', modelDir, '--workers', '1', '--no-facts', '--progress', 'none']);
    expect(idx.stderr).toBe('');
    expect(idx.code).toBe(0);
    expect(JSON.parse(idx.stdout)).toMatchObject({ indexed: 10, spaces: [] });

    const stats = visor(['--db', cliDb, '--json', 'stats']);
    expect(stats.code, stats.stderr).toBe(0);
    expect(JSON.parse(stats.stdout)).toMatchObject({ imageModel: 'tiny-clip', dimension: 512, items: 10, spaces: [] });
    expect(visor(['--db', cliDb, 'stats']).stdout).toMatch(/image model\s+tiny-clip \(512-d\)/);

    let worst = 0;
    const s = visor(['--db', cliDb, '--json', 'search', QUERY, '-k', '10']);
    expect(s.code, s.stderr).toBe(0);
    const text = JSON.parse(s.stdout) as { fusion: string; results: Array<{ path: string; score: number }> };
    expect(text.fusion).toBe('single');
    worst = Math.max(worst, expectRanking(text.results, rankBy(expectedText(QUERY), photos), 'CLI text'));

    const q = photos[4]!;
    const byImage = visor(['--db', cliDb, '--json', 'search', '--image', q.file, '-k', '10']);
    expect(byImage.code, byImage.stderr).toBe(0);
    worst = Math.max(
      worst,
      expectRanking((JSON.parse(byImage.stdout) as { results: Array<{ path: string; score: number }> }).results, rankBy(q.embedding, photos), 'CLI image'),
    );
    errors.cli = worst;

    // Tags of an indexed item, and of image files tagged by this index's main model (--db).
    let worstTags = 0;
    const opts = ['-k', String(TAG_OPTIONS.k), '--min-confidence', String(TAG_OPTIONS.minConfidence)];
    const byId = visor(['--db', cliDb, '--json', 'tags', '--id', q.id, ...opts]);
    expect(byId.code, byId.stderr).toBe(0);
    type Tagged = Array<{ image: string; tags: Array<{ synset: string; kind: string; confidence: number }> }>;
    worstTags = Math.max(worstTags, compareTags((JSON.parse(byId.stdout) as Tagged)[0]!.tags, expectedTags.get(q.file)!));
    const files = visor(['--db', cliDb, '--json', 'tags', photos[0]!.file, photos[8]!.file, ...opts]);
    expect(files.code, files.stderr).toBe(0);
    const tagged = JSON.parse(files.stdout) as Tagged;
    expect(tagged.map((t) => t.image)).toEqual([photos[0]!.file, photos[8]!.file]);
    for (const t of tagged) worstTags = Math.max(worstTags, compareTags(t.tags, expectedTags.get(t.image)!));
    errors.cliTags = worstTags;
    console.log(
      `CLI: index --model, stats, text and image search × 10 images, ranking equal; max |score − expected| = ${worst.toExponential(2)}; ` +
        `tags (--id, and files with --db) max |confidence − expected| = ${worstTags.toExponential(2)}`,
    );
  });
});
