import fs from 'node:fs';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClipModel } from '../src/models/clip/clip-model.js';
import { ExactKernel } from '../src/store/exact-kernel.js';
import { flickrCaptions, referencePixels, referenceProcessor, referenceTokenizer, testImages, type TestImage } from './clip-fixtures.js';
import { tempDir } from './fixtures.js';
import { CONTEXT, DIM, expectedImageEmbedding, expectedTextEmbedding, tinyVisionModel, writeTinyClipFolder } from './tiny-clip.js';

const EOS = 49407;

function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

const row = (m: Float32Array, i: number, dim = DIM) => m.subarray(i * dim, (i + 1) * dim);

/** Exhaustive top-k in JavaScript, float64: the ranking ExactKernel must reproduce. */
function bruteTop(queries: Float32Array, matrix: Float32Array, k: number): Array<Array<{ row: number; score: number }>> {
  const n = matrix.length / DIM;
  return Array.from({ length: queries.length / DIM }, (_, q) => {
    const scores = Array.from({ length: n }, (_, r) => {
      let s = 0;
      for (let j = 0; j < DIM; j++) s += queries[q * DIM + j]! * matrix[r * DIM + j]!;
      return { row: r, score: s };
    });
    return scores.sort((a, b) => b.score - a.score).slice(0, k);
  });
}

describe('ClipModel on tiny towers with CLIP’s real interface', () => {
  const tmp = tempDir('visor-clip-');
  const folder = path.join(tmp.dir, 'tiny-clip');
  let model: ClipModel;
  let images: TestImage[];
  let captions: string[];

  beforeAll(async () => {
    writeTinyClipFolder(folder);
    model = await ClipModel.load(folder, { threads: 1 });
    images = await testImages();
    captions = flickrCaptions().filter((_, i) => i % 25 === 0); // 200 captions
  });
  afterAll(async () => {
    await model.close();
    tmp.cleanup();
  });

  it('reads its settings from the model’s configs', () => {
    expect([model.id, model.dimension, model.contextLength, model.hasText]).toEqual(['tiny-clip', 512, 77, true]);
    expect([model.preprocessor.width, model.preprocessor.height]).toEqual([224, 224]);
  });

  it('embeds image files exactly as the tower’s function of the reference (transformers.js) pixel_values', async () => {
    const embeddings = await model.encodeImages(images.map((i) => i.bytes));
    expect(embeddings.length).toBe(images.length * DIM);
    const processor = referenceProcessor();
    let worst = 0;
    for (const [i, image] of images.entries()) {
      const expected = expectedImageEmbedding(await referencePixels(processor, image.bytes));
      worst = Math.max(worst, maxDiff(row(embeddings, i), expected));
    }
    expect(worst).toBeLessThan(1e-5);
    console.log(`image tower: ${images.length} images, max |ours − expected| = ${worst.toExponential(2)}`);
  });

  it('embeds texts exactly as the tower’s function of the reference (transformers.js) token ids', async () => {
    // Two texts longer than 77 tokens: their expected ids end with the end token (see the tokenizer suite).
    const long = [captions.slice(0, 9).join(' '), 'dog '.repeat(90)];
    const texts = [...captions, ...long];
    const embeddings = await model.encodeText(texts);
    const ref = referenceTokenizer()(texts, { return_tensor: false }) as unknown as { input_ids: number[][] };
    let worst = 0;
    texts.forEach((_, i) => {
      let ids = ref.input_ids[i]!;
      if (ids.length > CONTEXT) ids = [...ids.slice(0, CONTEXT - 1), EOS];
      const padded = [...ids, ...Array<number>(CONTEXT - ids.length).fill(EOS)];
      worst = Math.max(worst, maxDiff(row(embeddings, i), expectedTextEmbedding(padded)));
    });
    expect(worst).toBeLessThan(1e-5);
    console.log(`text tower: ${texts.length} texts, max |ours − expected| = ${worst.toExponential(2)}`);
  });

  it('returns unit vectors, and ExactKernel ranks them exactly as an exhaustive float64 search', async () => {
    const imageVecs = await model.encodeImages(images.map((i) => i.bytes));
    const textVecs = await model.encodeText(captions);
    for (const m of [imageVecs, textVecs]) {
      for (let i = 0; i < m.length / DIM; i++) expect(Math.hypot(...row(m, i))).toBeCloseTo(1, 5);
    }
    const kernel = await ExactKernel.create(1);
    try {
      for (const [queries, matrix] of [
        [imageVecs, imageVecs], // an image finds itself first, score 1
        [textVecs, textVecs],
        [textVecs, imageVecs], // text → image, the search the towers exist for
      ] as const) {
        const n = matrix.length / DIM;
        const count = queries.length / DIM;
        const k = Math.min(5, n);
        const got = await kernel.topK(queries, count, matrix, n, new Float32Array(n), k);
        const want = bruteTop(queries, matrix, k);
        const exact = (q: number, r: number) => {
          let s = 0;
          for (let j = 0; j < DIM; j++) s += queries[q * DIM + j]! * matrix[r * DIM + j]!;
          return s;
        };
        for (let q = 0; q < count; q++) {
          // Rank by rank the same scores; rows may only differ where scores tie (similar captions).
          expect(
            maxDiff(
              got.scores.subarray(q * k, (q + 1) * k),
              want[q]!.map((w) => w.score),
            ),
          ).toBeLessThan(1e-5);
          for (let r = 0; r < k; r++) expect(Math.abs(exact(q, got.rows[q * k + r]!) - got.scores[q * k + r]!)).toBeLessThan(1e-5);
          if (queries === matrix) expect(got.scores[q * k]).toBeCloseTo(1, 5);
          if (queries === imageVecs) expect(got.rows[q * k]).toBe(q);
        }
      }
    } finally {
      await kernel.close();
    }
  });

  it('serves the embedding workers through the ImageEncoder interface with the same vectors', async () => {
    const encoder = model.imageEncoder();
    expect([encoder.id, encoder.inputSize, encoder.featureDim, encoder.numClasses]).toEqual(['tiny-clip', 224, 512, 0]);
    const batch = encoder.newBatch(3);
    for (let i = 0; i < 3; i++) encoder.pack(batch, i, (await encoder.decode!(images[i]!.bytes, { maxPixels: 1e8 })).pixels);
    const out = await encoder.run(batch, 3);
    expect(out.probs.length).toBe(0);
    expect(out.features).toEqual(await model.encodeImages(images.slice(0, 3).map((i) => i.bytes)));
  });
});

describe('ClipModel variants', () => {
  const tmp = tempDir('visor-clip-variants-');
  afterAll(() => tmp.cleanup());

  it('runs dynamically quantized towers one item at a time, so a vector does not depend on its batch', async () => {
    const folder = writeTinyClipFolder(path.join(tmp.dir, 'dq'), { dynamicQuant: true });
    const images = (await testImages()).slice(0, 4).map((i) => i.bytes);
    const model = await ClipModel.load(folder, { threads: 1 });
    try {
      const together = await model.encodeImages(images);
      for (let i = 0; i < images.length; i++) expect(row(together, i)).toEqual(await model.encodeImages([images[i]!]));
      // The same graph run on the batch at once gives other vectors: the check above has teeth.
      const session = await ort.InferenceSession.create(tinyVisionModel({ dynamicQuant: true }));
      const pixels = new Float32Array(4 * 3 * 224 * 224);
      for (let i = 0; i < 4; i++)
        model.preprocessor.toTensor((await model.preprocessor.decode(images[i]!, { maxPixels: 1e8 })).pixels, pixels, i * 3 * 224 * 224);
      const batched = (await session.run({ pixel_values: new ort.Tensor('float32', pixels, [4, 3, 224, 224]) })).image_embeds!.data as Float32Array;
      await session.release();
      const single = await model.encodeImages([images[0]!]);
      const norm = Math.hypot(...batched.subarray(0, DIM));
      expect(
        maxDiff(
          single,
          batched.subarray(0, DIM).map((x) => x / norm),
        ),
      ).toBeGreaterThan(1e-6);
    } finally {
      await model.close();
    }
  });

  it('feeds an attention mask to a text tower that takes one', async () => {
    const folder = writeTinyClipFolder(path.join(tmp.dir, 'mask'), { attentionMask: true });
    const model = await ClipModel.load(folder, { threads: 1 });
    try {
      const [emb] = [await model.encodeText(['a photo of a dog'])];
      const ids = [49406, 320, 1125, 539, 320, 1929, 49407];
      const padded = [...ids, ...Array<number>(CONTEXT - ids.length).fill(EOS)];
      const mask = padded.map((_, i) => (i < ids.length ? 1 : 0));
      expect(maxDiff(emb, expectedTextEmbedding(padded, mask))).toBeLessThan(1e-5);
    } finally {
      await model.close();
    }
  });

  it('loads an image-only model and says why texts cannot be embedded', async () => {
    const folder = writeTinyClipFolder(path.join(tmp.dir, 'images-only'), { noText: true });
    const model = await ClipModel.load(folder, { threads: 1 });
    try {
      expect(model.hasText).toBe(false);
      await expect(model.encodeText(['a dog'])).rejects.toMatchObject({ code: 'QUERY_INVALID', message: expect.stringMatching(/no text tower/) });
      await expect(ClipModel.load(folder, { threads: 1, towers: ['text'] })).rejects.toMatchObject({ code: 'MODEL_NOT_FOUND' });
    } finally {
      await model.close();
    }
  });

  it('refuses a folder without the layout, naming what is missing', async () => {
    const empty = path.join(tmp.dir, 'empty');
    fs.mkdirSync(empty);
    await expect(ClipModel.load(empty)).rejects.toMatchObject({ code: 'MODEL_NOT_FOUND', message: expect.stringMatching(/preprocessor_config\.json/) });
  });
});
