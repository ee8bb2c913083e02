import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_OBJECTS, type Detection } from '../src/core/facts.js';
import { OBJECT_THRESHOLDS, ObjectsReader } from '../src/facts/objects-reader.js';
import type { FactReader } from '../src/facts/reader.js';
import { pythonClassTupleToJson, YOLOX_NANO_COCO } from '../src/models/registry.js';
import { letterbox, YOLOX_SIZE, YoloxNano, type RgbPixels } from '../src/models/yolox.js';
import { FLICKR_TEST_IMAGES, MODELS_DIR } from './fixtures.js';

const PUG = '1394368714_3bc7c19969.jpg'; // a man bending over a pug
const CAR = '2943023421_e297f05e11.jpg'; // a car splashing through water
const FAMILY = '3250695024_93e8ab7305.jpg'; // four people posing

/** A test photo, optionally set on a wider grey canvas (`left` and `right` pixels added), or enlarged to `side`. */
async function rgb(file: string, pad?: { left: number; right: number }, side?: number): Promise<RgbPixels> {
  let img = sharp(path.join(FLICKR_TEST_IMAGES, file));
  if (pad) img = img.extend({ ...pad, background: { r: 128, g: 128, b: 128 } });
  if (side) img = img.resize(side, side, { kernel: 'cubic' });
  const { data, info } = await img.removeAlpha().raw().toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height };
}

function expectSaneBoxes(found: readonly Detection[], width: number, height: number): void {
  for (const d of found) {
    const [x1, y1, x2, y2] = d.box;
    expect(x1).toBeGreaterThanOrEqual(0);
    expect(y1).toBeGreaterThanOrEqual(0);
    expect(x2).toBeLessThanOrEqual(width);
    expect(y2).toBeLessThanOrEqual(height);
    expect(x2).toBeGreaterThan(x1);
    expect(y2).toBeGreaterThan(y1);
    expect(d.score).toBeGreaterThan(0);
    expect(d.score).toBeLessThanOrEqual(1);
  }
  const scores = found.map((d) => d.score);
  expect(scores).toEqual([...scores].sort((a, b) => b - a));
}

const count = (found: readonly Detection[], label: string) => found.filter((d) => d.label === label).length;

describe('YOLOX-Nano detector', () => {
  let model: YoloxNano;
  beforeAll(async () => {
    model = await YoloxNano.load();
  });
  afterAll(async () => {
    await model.close();
  });

  it('finds the pug and the man, the car, and the four people', async () => {
    const pug = await model.detect(await rgb(PUG), OBJECT_THRESHOLDS);
    expectSaneBoxes(pug, 224, 224);
    const dog = pug.find((d) => d.label === 'dog')!;
    expect(dog.score).toBeGreaterThan(0.6);
    // The pug sits bottom-left (checked by eye): about [10, 138, 106, 213].
    dog.box.forEach((v, i) => expect(Math.abs(v - [10, 138, 106, 213][i]!)).toBeLessThan(8));
    expect(count(pug, 'person')).toBeGreaterThanOrEqual(2);

    const car = await model.detect(await rgb(CAR), OBJECT_THRESHOLDS);
    expect(car[0]).toMatchObject({ label: 'car' });
    expect(car[0]!.score).toBeGreaterThan(0.7);

    const family = await model.detect(await rgb(FAMILY), OBJECT_THRESHOLDS);
    expect(count(family, 'person')).toBe(4);
  });

  it('returns boxes in the pixels of the image it was given, whatever its shape', async () => {
    const square = (await model.detect(await rgb(PUG), OBJECT_THRESHOLDS)).find((d) => d.label === 'dog')!;
    const wide = await model.detect(await rgb(PUG, { left: 150, right: 74 }), OBJECT_THRESHOLDS);
    expectSaneBoxes(wide, 448, 224);
    const dog = wide.find((d) => d.label === 'dog')!;
    // The same pug on a canvas twice as wide, 150 px from its left edge (the model sees it at half the scale).
    const expected = [square.box[0] + 150, square.box[1], square.box[2] + 150, square.box[3]];
    dog.box.forEach((v, i) => expect(Math.abs(v - expected[i]!)).toBeLessThan(10));

    // Enlarged to 1000 px: shrunk to the canvas through libvips rather than by hand, same pug.
    const big = (await model.detect(await rgb(PUG, undefined, 1000), OBJECT_THRESHOLDS)).find((d) => d.label === 'dog')!;
    big.box.forEach((v, i) => expect(Math.abs(v - (square.box[i]! * 1000) / 224)).toBeLessThan(40));
  });

  it('takes a tiny image, a very long one and a big one without failing', async () => {
    const noise = (width: number, height: number): RgbPixels => {
      const data = new Uint8Array(width * height * 3);
      for (let i = 0; i < data.length; i++) data[i] = (i * 2654435761) >>> 24;
      return { data, width, height };
    };
    for (const [w, h] of [
      [8, 8],
      [1, 1],
      [4000, 10],
      [10, 3000],
      [3000, 2000],
    ] as const) {
      const found = await model.detect(noise(w, h), { minScore: 0.01 });
      expectSaneBoxes(found, w, h);
    }
  });

  it('keeps at most maxObjects, highest scores first, and the cap defaults to MAX_OBJECTS', async () => {
    const image = await rgb(FAMILY);
    const all = await model.detect(image, { minScore: 0.001, nmsIoU: 1 });
    expect(all.length).toBe(MAX_OBJECTS);
    const five = await model.detect(image, { minScore: 0.001, nmsIoU: 1, maxObjects: 5 });
    expect(five).toHaveLength(5);
    expect(five.map((d) => d.score)).toEqual(all.slice(0, 5).map((d) => d.score));
  });

  it('letterboxes to the top-left of a 416×416 BGR canvas filled with 114', () => {
    const image: RgbPixels = { data: new Uint8Array(200 * 100 * 3), width: 200, height: 100 };
    for (let p = 0; p < 200 * 100; p++) image.data.set([250, 10, 30], p * 3); // one colour: R 250, G 10, B 30
    const { tensor, scale } = letterbox(image);
    expect(scale).toBeCloseTo(2.08);
    const plane = YOLOX_SIZE * YOLOX_SIZE;
    const at = (c: number, x: number, y: number) => tensor[c * plane + y * YOLOX_SIZE + x];
    expect([at(0, 10, 10), at(1, 10, 10), at(2, 10, 10)]).toEqual([30, 10, 250]);
    expect([at(0, 415, 207), at(2, 415, 207)]).toEqual([30, 250]); // the last row of the image (100 · 2.08 = 208)
    expect([at(0, 10, 208), at(1, 10, 300), at(2, 0, 415)]).toEqual([114, 114, 114]);
  });
});

describe('objects stage', () => {
  it('reads the objects of an image with the product thresholds', async () => {
    const reader: FactReader = await ObjectsReader.load();
    try {
      expect([reader.stage, reader.id]).toEqual(['objects', 'yolox-nano-coco']);
      const facts = await reader.read(await rgb(PUG), {});
      expect(Object.keys(facts)).toEqual(['objects']);
      expect(count(facts.objects!, 'dog')).toBe(1);
      for (const d of facts.objects!) expect(d.score).toBeGreaterThanOrEqual(OBJECT_THRESHOLDS.classMinScores[d.label] ?? OBJECT_THRESHOLDS.minScore);
    } finally {
      await reader.close();
    }
  });
});

describe('YOLOX registry entry', () => {
  it('matches the model files in ../shared, and rebuilds the labels file from YOLOX’s coco_classes.py', () => {
    for (const f of YOLOX_NANO_COCO.files) {
      const bytes = fs.readFileSync(path.join(MODELS_DIR, YOLOX_NANO_COCO.id, f.name));
      expect([bytes.length, createHash('sha256').update(bytes).digest('hex')]).toEqual([f.size, f.sha256]);
    }
    const labels = JSON.parse(fs.readFileSync(path.join(MODELS_DIR, YOLOX_NANO_COCO.id, 'coco_labels.json'), 'utf8')) as string[];
    // The upstream file's layout: a header, then one quoted name per line in a tuple.
    const python = `#!/usr/bin/env python3\n# Copyright (c) Megvii, Inc. and its affiliates.\n\nCOCO_CLASSES = (\n${labels.map((l) => `    "${l}",\n`).join('')})\n`;
    const converted = pythonClassTupleToJson(Buffer.from(python));
    expect(createHash('sha256').update(converted).digest('hex')).toBe(YOLOX_NANO_COCO.files[1]!.sha256);
  });
});
