import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isVisorError } from '../src/errors.js';
import { decodeForModel } from '../src/image/decode.js';
import { MobileNetV2 } from '../src/models/mobilenet.js';
import { normalize, rocchio, weightedQuery } from '../src/search/query-algebra.js';
import { FLICKR_TEST_IMAGES, flickrTestImages } from './fixtures.js';

// Two dog photos and a tandem-bicycle photo (chosen from their captions), outside the gallery.
const DOG_A = path.join(FLICKR_TEST_IMAGES, '909808296_23c427022d.jpg');
const DOG_B = path.join(FLICKR_TEST_IMAGES, '757332692_6866ae545c.jpg');
const BIKE = path.join(FLICKR_TEST_IMAGES, '3635577874_48ebaac734.jpg');

const dot = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
};

describe('query algebra on real MobileNetV2 features', () => {
  let gallery: Float32Array[];
  let dogA: Float32Array, dogB: Float32Array, bike: Float32Array;

  /** 1-based rank of every gallery item for a query (cosine: all vectors are unit length). */
  const ranks = (q: Float32Array): number[] => {
    const order = gallery.map((g, i) => ({ i, s: dot(q, g) })).sort((a, b) => b.s - a.s);
    const r = new Array<number>(gallery.length);
    order.forEach((o, pos) => (r[o.i] = pos + 1));
    return r;
  };
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  /** The gallery items closest to `v`, best first. */
  const nearest = (v: Float32Array, n: number) => ranks(v).map((r, i) => ({ r, i })).sort((a, b) => a.r - b.r).slice(0, n).map((x) => x.i);

  let model: MobileNetV2;
  beforeAll(async () => {
    model = await MobileNetV2.load({ threads: 2 });
    const embed = async (file: string) => {
      const px = (await decodeForModel(fs.readFileSync(file), 224, { maxPixels: 1e8 })).pixels;
      return (await model.embed([px])).features;
    };
    const files = flickrTestImages(100).filter((f) => ![DOG_A, DOG_B, BIKE].includes(f));
    gallery = [];
    for (const f of files) gallery.push(await embed(f));
    [dogA, dogB, bike] = [await embed(DOG_A), await embed(DOG_B), await embed(BIKE)];
  });
  afterAll(async () => model.close());

  it('combines weighted terms into a unit query: Σ wᵢ·eᵢ − Σ vⱼ·nⱼ', () => {
    expect(Array.from(weightedQuery([{ vector: bike }]))).toEqual(Array.from(normalize(bike)));
    const q = weightedQuery([{ vector: bike, weight: 2 }, { vector: dogA }, { vector: dogB, weight: 0.5, negative: true }]);
    const expected = normalize(bike.map((x, i) => 2 * x + dogA[i]! - 0.5 * dogB[i]!));
    expect(dot(q, q)).toBeCloseTo(1, 5);
    for (let i = 0; i < q.length; i++) expect(q[i]).toBeCloseTo(expected[i]!, 5);
    // More weight on a term pulls the query toward it.
    expect(dot(weightedQuery([{ vector: bike, weight: 3 }, { vector: dogA }]), bike)).toBeGreaterThan(dot(weightedQuery([{ vector: bike }, { vector: dogA }]), bike));
  });

  it('refuses queries that have no direction: no positive term, terms that cancel, mismatched sizes', () => {
    const code = (f: () => unknown) => {
      try {
        f();
      } catch (e) {
        return isVisorError(e) ? e.code : 'other';
      }
      return 'none';
    };
    expect(code(() => weightedQuery([{ vector: dogA, negative: true }]))).toBe('QUERY_INVALID');
    expect(code(() => weightedQuery([{ vector: dogA }, { vector: dogA, negative: true }]))).toBe('QUERY_INVALID');
    expect(code(() => weightedQuery([{ vector: dogA }, { vector: dogA.subarray(1) }]))).toBe('QUERY_INVALID');
    expect(code(() => weightedQuery([{ vector: dogA, weight: 0 }]))).toBe('QUERY_INVALID');
    expect(code(() => rocchio(dogA, [dogB.subarray(2)]))).toBe('QUERY_INVALID');
  });

  it('a negative image term demotes the items that look like it', () => {
    // The bicycle query's gallery ranking, then the same query "but not like this dog photo".
    const plain = ranks(weightedQuery([{ vector: bike }]));
    const notDog = ranks(weightedQuery([{ vector: bike }, { vector: dogB, weight: 0.5, negative: true }]));
    const dogLike = nearest(dogB, 5);
    for (const i of dogLike) expect(notDog[i]!).toBeGreaterThan(plain[i]!);
    expect(mean(dogLike.map((i) => notDog[i]!)) - mean(dogLike.map((i) => plain[i]!))).toBeGreaterThan(10);
    // What is most like the bicycle photo and least like the dog stays on top.
    const bikeLike = nearest(bike, 3);
    expect(mean(bikeLike.map((i) => notDog[i]!))).toBeLessThan(10);
  });

  it('relevance feedback moves the ranking toward liked items and away from disliked ones', () => {
    const q = normalize(dogA);
    const before = ranks(q);
    const byRank = before.map((r, i) => ({ r, i })).sort((a, b) => a.r - b.r).map((x) => x.i);
    // The user likes two items from the middle of the list and dislikes the top two.
    const liked = [byRank[30]!, byRank[40]!];
    const disliked = [byRank[0]!, byRank[1]!];
    const after = ranks(rocchio(q, liked.map((i) => gallery[i]!), disliked.map((i) => gallery[i]!)));
    for (const i of liked) expect(after[i]!).toBeLessThan(before[i]! - 10);
    for (const i of disliked) expect(after[i]!).toBeGreaterThan(before[i]!);
    // Not just the marked items: their look-alikes (never marked) move the same way.
    const likedNeighbours = liked.flatMap((i) => nearest(gallery[i]!, 4).slice(1)).filter((i) => !liked.includes(i) && !disliked.includes(i));
    expect(mean(likedNeighbours.map((i) => after[i]!))).toBeLessThan(mean(likedNeighbours.map((i) => before[i]!)));
    // With no feedback the query stays where it was.
    expect(ranks(rocchio(q, [], []))).toEqual(before);
  });
});
