import fs from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { readModelConfig, readPreprocessorConfig } from '../src/models/clip/hf-config.js';
import { ImagePreprocessor, shortestEdgeSize } from '../src/models/clip/preprocess.js';
import { referencePixels, referenceProcessor, testImages, type TestImage } from './clip-fixtures.js';
import { CLIP_TOKENIZER_DIR } from './fixtures.js';

const PREPROCESSOR_JSON = path.join(CLIP_TOKENIZER_DIR, 'preprocessor_config.json');
const LIMITS = { maxPixels: 100_000_000 };

describe('CLIP image preprocessing (ours, on sharp) against transformers.js on the same preprocessor_config.json', () => {
  let images: TestImage[];
  let ours: ImagePreprocessor;

  beforeAll(async () => {
    images = await testImages();
    ours = new ImagePreprocessor(readPreprocessorConfig(JSON.parse(fs.readFileSync(PREPROCESSOR_JSON, 'utf8'))));
  });

  it('gives the same pixel_values on every test image (shrinks, enlargements, crops, formats, grey, EXIF) to within 1e-3', async () => {
    const processor = referenceProcessor();
    let worst = 0;
    for (const image of images) {
      const input = await ours.decode(image.bytes, LIMITS);
      const mine = new Float32Array(3 * 224 * 224);
      ours.toTensor(input.pixels, mine);
      const ref = await referencePixels(processor, image.bytes);
      expect(ref.length, image.label).toBe(mine.length);
      let max = 0;
      for (let i = 0; i < mine.length; i++) max = Math.max(max, Math.abs(mine[i]! - ref[i]!));
      expect(max, image.label).toBeLessThanOrEqual(1e-3);
      worst = Math.max(worst, max);
    }
    console.log(`preprocessing: ${images.length} images × ${3 * 224 * 224} values, max |ours − transformers.js| = ${worst}`);
  });

  it('reports the source size and orientation of the decoded image', async () => {
    const rotated = images.find((i) => i.label.includes('EXIF'))!;
    const input = await ours.decode(rotated.bytes, LIMITS);
    expect([input.width, input.height, input.format]).toEqual([250, 400, 'jpeg']);
    expect(input.pixels.length).toBe(224 * 224 * 3);
  });
});

describe('model configs', () => {
  it('sizes a shortest-edge resize as the reference does', () => {
    expect(shortestEdgeSize(500, 375, 224)).toEqual({ width: 298, height: 224 });
    expect(shortestEdgeSize(375, 500, 224)).toEqual({ width: 224, height: 298 });
    expect(shortestEdgeSize(32, 32, 224)).toEqual({ width: 224, height: 224 });
    expect(shortestEdgeSize(33, 65, 224)).toEqual({ width: 224, height: 441 });
  });

  it('reads the older CLIP layout (size: 224) as a shortest edge, and SigLIP-style fixed resizes', () => {
    const openai = {
      crop_size: 224,
      do_center_crop: true,
      do_normalize: true,
      do_resize: true,
      image_mean: [0.5, 0.5, 0.5],
      image_std: [0.5, 0.5, 0.5],
      resample: 3,
      size: 224,
    };
    expect(readPreprocessorConfig(openai)).toMatchObject({
      resize: { kind: 'shortest-edge', shortestEdge: 224 },
      crop: { width: 224, height: 224 },
      rescale: 1 / 255,
    });
    const siglip = {
      do_resize: true,
      size: { height: 384, width: 384 },
      resample: 2,
      do_rescale: true,
      rescale_factor: 1 / 255,
      do_normalize: true,
      image_mean: [0.5, 0.5, 0.5],
      image_std: [0.5, 0.5, 0.5],
    };
    const p = readPreprocessorConfig(siglip);
    expect(p).toMatchObject({ resize: { kind: 'exact', width: 384, height: 384 }, resample: 'bilinear', crop: null });
    expect(readModelConfig({ model_type: 'siglip', text_config: { hidden_size: 768 }, vision_config: { image_size: 384 } })).toEqual({
      modelType: 'siglip',
      dimension: 768,
      contextLength: 64,
      imageSize: 384,
    });
    expect(() => readPreprocessorConfig({ ...openai, do_center_crop: false })).toThrow(/varying size/);
  });
});
