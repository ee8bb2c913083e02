import { describe, expect, it } from 'vitest';
import { pairwiseFigures } from '../lab/eval/duplicates.js';
import { extraDistractors } from '../lab/eval/duplicates-scale.js';
import { parseScales, planScaleSizes, shortMessage } from '../lab/eval/duplicates-scale-plan.js';
import { loadFlickr8k } from '../lab/eval/datasets.js';
import { wrongPairsBySource } from '../lab/cli/commands/eval-duplicates-scale-cmd.js';
import { visorLab } from './fixtures.js';

// The benchmark's own collection: 1,000 originals, 1,000 copies, 7,000 Flickr8k distractors (9,000 images, 1×).
const base = { originals: 1000, copies: 1000, flickrDistractors: 7000 };
// The data sets here: 10,956 LFW photos, 10,000 CIFAR-10 images (29,956 images in all, 3.33×).
const extras = { lfw: 10_956, cifar10: 10_000 };

describe('duplicates benchmark sizes (--scale)', () => {
  it('reads multiples of 1 or more, sorted, each once', () => {
    expect(parseScales('4,1,2,2')).toEqual([1, 2, 4]);
    expect(parseScales(' 1.5 ')).toEqual([1.5]);
    for (const bad of ['', '0.5', '1,,2', 'two', '1,-2']) expect(() => parseScales(bad), bad).toThrow(/--scale/);
  });

  it('turns down a size below the benchmark collection on the command line, before any work', () => {
    const r = visorLab(['eval', 'duplicates', '--scale', '1,0.5']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/--scale takes multiples of the benchmark collection, 1 or more/);
  });

  it('keeps the benchmark collection whole and adds LFW, then CIFAR-10, in that order', () => {
    const [one, two, three] = planScaleSizes(base, extras, [1, 2, 3]);
    expect(one).toEqual({ scale: 1, images: 9000, distractors: { flickr8k: 7000, lfw: 0, cifar10: 0 } });
    // 18,000 − 9,000 = 9,000 more: all LFW.
    expect(two).toEqual({ scale: 2, images: 18_000, distractors: { flickr8k: 7000, lfw: 9000, cifar10: 0 } });
    // 27,000 − 9,000 = 18,000 more: every LFW photo, then 7,044 CIFAR-10 images.
    expect(three).toEqual({ scale: 3, images: 27_000, distractors: { flickr8k: 7000, lfw: 10_956, cifar10: 7044 } });
  });

  it('marks a size beyond the pictures here as short, without padding it, and measures all that is here instead', () => {
    const sizes = planScaleSizes(base, extras, [1, 2, 4]);
    expect(sizes.map((s) => [s.scale, s.images, s.short, s.allAvailable])).toEqual([
      [1, 9000, undefined, undefined],
      [2, 18_000, undefined, undefined],
      // 36,000 wanted, 29,956 here: 6,044 short.
      [4, 36_000, 6044, undefined],
      [29_956 / 9000, 29_956, undefined, true],
    ]);
    // The short size counts only real pictures.
    expect(sizes[2]!.distractors).toEqual({ flickr8k: 7000, lfw: 10_956, cifar10: 10_000 });
    expect(shortMessage(sizes[2]!, sizes)).toBe('4× = 36,000 images: 6,044 pictures short, not measured (the largest measurable here is 29,956 images, 3.33×)');
  });

  it('adds no extra size when every requested one can be measured, or when the largest requested is all that is here', () => {
    expect(planScaleSizes(base, extras, [1, 2]).some((s) => s.allAvailable)).toBe(false);
    const exact = planScaleSizes(base, extras, [29_956 / 9000, 4]);
    expect(exact.map((s) => s.images)).toEqual([29_956, 36_000]);
    expect(exact.some((s) => s.allAvailable)).toBe(false);
  });

  it('scales a --limit run from its own smaller collection', () => {
    // --limit 20: 20 originals, 20 copies, 140 Flickr8k distractors (180 images).
    const sizes = planScaleSizes({ originals: 20, copies: 20, flickrDistractors: 140 }, extras, [1, 4]);
    expect(sizes.map((s) => [s.images, s.distractors.lfw, s.distractors.cifar10])).toEqual([
      [180, 0, 0],
      [720, 540, 0],
    ]);
  });

  it('takes its extra distractors from LFW and CIFAR-10 only: no Flickr8k photo, so never an original of a copy', () => {
    const x = extraDistractors();
    expect(x.lfw.length).toBe(10_956);
    expect(x.cifar10.length).toBe(10_000);
    expect(x.lfw[0]).toMatch(/lfw-deepfunneled\/images\/AJ_Lamas\/AJ_Lamas_0001\.jpg$/);
    const flickr = new Set(['test', 'train', 'dev'].flatMap((s) => loadFlickr8k(s as 'test').images.map((i) => i.path)));
    // Flickr8k: 6,000 train + 1,000 dev + 1,000 test photos.
    expect(flickr.size).toBe(8000);
    const all = [...x.lfw, ...x.cifar10];
    expect(new Set(all).size).toBe(all.length);
    expect(all.filter((p) => flickr.has(p))).toEqual([]);
  });
});

describe('pairwise figures of duplicate groups', () => {
  it('counts pairs inside groups, true when both show one picture, against one true pair per copy', () => {
    // Copies c1 (of a) and c2 (of b, a small crop); d1 and d2 are distractors.
    const picture = new Map([
      ['a', 'A'],
      ['c1', 'A'],
      ['b', 'B'],
      ['c2', 'B'],
      ['d1', 'D1'],
      ['d2', 'D2'],
    ]);
    const kindOf = new Map([
      ['c1', 'resize' as const],
      ['c2', 'crop-small' as const],
    ]);
    // Group {a, c1, d1}: 3 pairs, 1 true; group {d2, b}: 1 pair, false; c2 found with nothing.
    const groups = [
      ['a', 'c1', 'd1'],
      ['d2', 'b'],
    ];
    expect(pairwiseFigures(groups, picture, kindOf)).toEqual({ precision: 1 / 4, recall: 1 / 2, predicted: 4, relevant: 2, correct: 1 });
    const noSmallCrops = pairwiseFigures(groups, picture, kindOf, (k1, k2) => k1 !== 'crop-small' && k2 !== 'crop-small');
    expect(noSmallCrops).toEqual({ precision: 1 / 4, recall: 1, predicted: 4, relevant: 1, correct: 1 });
  });
});

describe('wrong pairs by source', () => {
  it('counts the pairs found wrong by the data sets of their two images, the most first', () => {
    const lfw = (n: string) => `/s/datasets/lfw-deepfunneled/images/${n}.jpg`;
    const flickr = (n: string) => `/s/datasets/flickr8k-trainval/images/${n}.jpg`;
    const copy = '/tmp/visor-eval-duplicates-s1/copies/crop/1-crop.jpg';
    expect(
      wrongPairsBySource([
        [lfw('a'), lfw('b')],
        [flickr('c'), lfw('d')],
        [lfw('e'), lfw('f')],
        [copy, flickr('g')],
      ]),
    ).toBe('2 LFW–LFW, 1 Flickr8k–LFW, 1 Flickr8k–copy');
    expect(wrongPairsBySource([])).toBe('none');
  });
});
