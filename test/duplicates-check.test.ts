import fs from 'node:fs';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FeatureCache, comparePair } from '../src/duplicates/find-duplicates.js';
import { localFeatures, type LocalFeatures } from '../src/duplicates/local-features.js';
import { checkPair } from '../src/duplicates/verify.js';
import { copyFlickrTestImages, tempDir } from './fixtures.js';

/** The precise check's two passes on one photo, an edited copy of it and a different photo. */
describe('the precise duplicate check', () => {
  const tmp = tempDir('visor-dups-check-');
  const bytes = new Map<string, Buffer>();
  let photo: LocalFeatures;
  let crop: LocalFeatures;
  let other: LocalFeatures;

  beforeAll(async () => {
    const [a, b] = copyFlickrTestImages(2, tmp.dir);
    bytes.set('a', fs.readFileSync(a!));
    bytes.set('crop', await sharp(a).extract({ left: 30, top: 20, width: 170, height: 180 }).jpeg({ quality: 90 }).toBuffer());
    bytes.set('flip', await sharp(a).flop().jpeg({ quality: 90 }).toBuffer());
    bytes.set('b', fs.readFileSync(b!));
    const f = await Promise.all(['a', 'crop', 'b'].map((k) => localFeatures(bytes.get(k)!)));
    [photo, crop, other] = [f[0]!, f[1]!, f[2]!];
  }, 60_000);

  afterAll(() => tmp.cleanup());

  it('the cheap pass compares only the strongest keypoints, and still verifies a copy', async () => {
    const cheap = await checkPair(photo, crop, { keypoints: 150 });
    const full = await checkPair(photo, crop);
    expect(cheap.matches).toBeLessThanOrEqual(150);
    expect(full.matches).toBeGreaterThan(cheap.matches);
    expect(cheap.inliers).toBeGreaterThanOrEqual(20);
  });

  it('a different photo keeps too few inliers under one homography', async () => {
    expect((await checkPair(photo, other)).inliers).toBeLessThan(14);
    // Too few ratio-test matches: no homography is fitted at all.
    expect(await checkPair(photo, other, { minMatches: 1000 })).toMatchObject({ inliers: 0 });
  });

  it('a mirror image is recognised only when the global features are similar enough to try', async () => {
    const cache = new FeatureCache(async (id) => bytes.get(id)!);
    expect(await comparePair(cache, 'a', 'flip', 0.95)).toMatchObject({ mirrored: true });
    expect((await comparePair(cache, 'a', 'flip', 0.8))!.confidence).toBeLessThan(0.5);
    expect((await comparePair(cache, 'a', 'b', 0.95))!.confidence).toBeLessThan(0.5);
  });
});
