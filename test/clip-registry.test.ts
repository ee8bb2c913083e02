import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { VisorPaths } from '../src/config.js';
import { EmbedPool } from '../src/ingest/embed-pool.js';
import { ClipModel } from '../src/models/clip/clip-model.js';
import { canonicalModelConfig, canonicalPreprocessorConfig } from '../src/models/clip/hf-config.js';
import { loadImageEncoder } from '../src/models/load-encoder.js';
import { addLocalModel, findAnyModel } from '../src/models/local-models.js';
import { CLIP_VIT_B32 } from '../src/models/registry.js';
import { downloadUrl } from '../src/models/resolve.js';
import { canonicalTokenizerJson } from '../src/text/tokenizer-json.js';
import { testImages } from './clip-fixtures.js';
import { CLIP_TOKENIZER_DIR, XENOVA_CLIP_PREPROCESSOR, tempDir } from './fixtures.js';
import { writeTinyClipFolder } from './tiny-clip.js';

const PREPROCESSOR_JSON = path.join(CLIP_TOKENIZER_DIR, 'preprocessor_config.json');

function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

describe('CLIP ViT-B/32 in the registry', () => {
  it('pins the registry JSON files by content: upstream layouts and our shared copies give the pinned bytes', () => {
    // Xenova/clip-vit-base-patch32's preprocessor_config.json (520 B upstream) and OpenAI's
    // original layout (316 B) say the same as the 493 B copy in ../shared.
    const openai = {
      crop_size: 224,
      do_center_crop: true,
      do_normalize: true,
      do_resize: true,
      image_mean: XENOVA_CLIP_PREPROCESSOR.image_mean,
      image_std: XENOVA_CLIP_PREPROCESSOR.image_std,
      resample: 3,
      size: 224,
    };
    const shared = fs.readFileSync(PREPROCESSOR_JSON);
    const canonical = canonicalPreprocessorConfig(shared);
    expect(canonicalPreprocessorConfig(Buffer.from(JSON.stringify(XENOVA_CLIP_PREPROCESSOR, null, 2))).equals(canonical)).toBe(true);
    expect(canonicalPreprocessorConfig(Buffer.from(JSON.stringify(openai))).equals(canonical)).toBe(true);

    const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
    const convert = {
      'preprocessor_config.json': canonicalPreprocessorConfig,
      'config.json': canonicalModelConfig,
      'tokenizer.json': canonicalTokenizerJson,
    } as const;
    for (const [name, fn] of Object.entries(convert)) {
      const spec = CLIP_VIT_B32.files.find((f) => f.name === name)!;
      expect(spec.convert).toBe(fn);
      const out = fn(fs.readFileSync(path.join(CLIP_TOKENIZER_DIR, name)));
      expect([out.length, sha(out)], name).toEqual([spec.size, spec.sha256]);
    }
  });

  it('fetches from VISOR_MODEL_BASE_URL with the upstream path when set', () => {
    const file = CLIP_VIT_B32.files[3]!;
    const paths: VisorPaths = { modelsPath: [], cacheDir: '/c', defaultDb: '/d', datasetsPath: [], offline: false };
    expect(downloadUrl(file, paths)).toBe(file.url);
    expect(downloadUrl(file, { ...paths, modelBaseUrl: 'https://mirror.example/hf/' })).toBe(
      'https://mirror.example/hf/Xenova/clip-vit-base-patch32/resolve/d15189d7028b43f1d3e65039190477f6af591c2a/onnx/vision_model_quantized.onnx',
    );
  });
});

describe('models added from a folder', () => {
  const tmp = tempDir('visor-clip-added-');
  const paths: VisorPaths = { modelsPath: [], cacheDir: path.join(tmp.dir, 'cache'), defaultDb: path.join(tmp.dir, 'db'), datasetsPath: [], offline: true };
  afterAll(() => tmp.cleanup());

  it('are found by id, load from their folder, and refuse a changed file size', async () => {
    const folder = writeTinyClipFolder(path.join(tmp.dir, 'Added Model'));
    const { spec } = await addLocalModel(folder, { paths });
    expect(spec.id).toBe('added-model');
    expect(findAnyModel('added-model', paths)).toEqual(spec);
    const model = await ClipModel.load(spec, { paths, threads: 1 });
    expect(model.id).toBe('added-model');
    await model.close();
    fs.appendFileSync(path.join(folder, 'tokenizer.json'), '\n');
    await expect(ClipModel.load(spec, { paths, threads: 1 })).rejects.toMatchObject({ code: 'MODEL_SIZE_MISMATCH' });
    await expect(loadImageEncoder({ id: 'no-such-model', paths })).rejects.toMatchObject({ code: 'MODEL_UNKNOWN' });
  });

  it('indexes through the embedding workers with an added model, giving the same vectors as encodeImages', async () => {
    const folder = writeTinyClipFolder(path.join(tmp.dir, 'worker-model'));
    const added = await addLocalModel(folder, { id: 'tiny-worker', paths });
    expect(added).toMatchObject({ dimension: 512, spec: { id: 'tiny-worker', format: 'hf-onnx' } });
    const images = (await testImages()).slice(0, 5);
    const pool = await EmbedPool.start({ workers: 1, batchSize: 2, maxPixels: 1e8, model: { id: 'tiny-worker', paths } });
    const model = await ClipModel.load(folder, { threads: 1 });
    try {
      expect([pool.featureDim, pool.numClasses]).toEqual([512, 0]);
      const outcomes = await Promise.all(images.map((img, i) => pool.embed(`img${i}`, Buffer.from(img.bytes))));
      await pool.flush();
      const direct = await model.encodeImages(images.map((i) => i.bytes));
      outcomes.forEach((o, i) => {
        expect(o.ok).toBe(true);
        if (o.ok) expect(maxDiff(o.vector, direct.subarray(i * 512, (i + 1) * 512))).toBe(0);
      });
    } finally {
      await pool.close();
      await model.close();
    }
  });
});
