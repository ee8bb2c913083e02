import fs from 'node:fs';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FeatureCache, comparePair } from '../src/duplicates/find-duplicates.js';
import { alignedAgreement } from '../src/duplicates/agreement.js';
import { AGREEMENT_GATE } from '../src/duplicates/confidence.js';
import { greyPixels, localFeatures, type LocalFeatures } from '../src/duplicates/local-features.js';
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
    // A second shot of one scene, in miniature: the same background, but two fifths of the picture changed
    // (here, another photo's middle drawn over it).
    const middle = await sharp(b).extract({ left: 45, top: 35, width: 130, height: 150 }).toBuffer();
    bytes.set(
      'moved',
      await sharp(a)
        .composite([{ input: middle, left: 50, top: 40 }])
        .jpeg({ quality: 90 })
        .toBuffer(),
    );
    const caption = Buffer.from(
      '<svg xmlns="http://www.w3.org/2000/svg" width="224" height="224"><text x="10" y="200" font-family="sans-serif" font-weight="bold" font-size="26" fill="#ff0" stroke="#000">SALE 2019</text></svg>',
    );
    bytes.set(
      'captioned',
      await sharp(a)
        .modulate({ brightness: 1.2, hue: 30 })
        .composite([{ input: caption }])
        .jpeg({ quality: 80 })
        .toBuffer(),
    );
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

  it('a changed part of the picture fails the aligned agreement although its background passes the geometric test; a recoloured, captioned copy passes both', async () => {
    const cache = new FeatureCache(async (id) => bytes.get(id)!);
    const moved = (await comparePair(cache, 'a', 'moved', 0.95))!;
    expect(moved.inliers).toBeGreaterThanOrEqual(20);
    expect(moved.agreement).toBeLessThan(AGREEMENT_GATE);
    expect(moved.confidence).toBeLessThan(0.5);
    const captioned = (await comparePair(cache, 'a', 'captioned', 0.95))!;
    expect(captioned.agreement).toBeGreaterThanOrEqual(AGREEMENT_GATE);
    expect(captioned.confidence).toBeGreaterThan(0.5);
    const crop = (await comparePair(cache, 'a', 'crop', 0.95))!;
    expect(crop.agreement).toBeGreaterThan(0.95);
  });

  it('the agreement is measured where the two images overlap, on cells textured in both', async () => {
    const [a, cropped] = await Promise.all([greyPixels(bytes.get('a')!), greyPixels(bytes.get('crop')!)]);
    const fit = await checkPair(photo, crop);
    const inCrop = alignedAgreement(a, cropped, fit.homography!);
    const identity = alignedAgreement(a, a, [1, 0, 0, 0, 1, 0, 0, 0, 1]);
    expect(identity.share).toBe(1);
    // The crop covers part of the photo: fewer cells compared than the photo against itself.
    expect(inCrop.cells).toBeLessThan(identity.cells);
    expect(inCrop.share).toBeGreaterThan(0.95);
    // Misaligned by a quarter of the picture, nothing agrees.
    expect(alignedAgreement(a, a, [1, 0, 80, 0, 1, 0, 0, 0, 1]).share).toBeLessThan(0.5);
  });
});
