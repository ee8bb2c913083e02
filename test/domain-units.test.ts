import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { expectedCalibrationError, fitTemperature } from '../lab/train/classify/calibrate.js';
import { CategoryClassifier } from '../src/classify/category-classifier.js';
import { crossValidate, trainCategoryClassifier } from '../lab/train/classify/train-classifier.js';
import { stratifiedFolds } from '../lab/train/classify/cross-validate.js';
import { softmaxRows } from '../src/classify/softmax.js';
import { ZeroShotPredictor } from '../src/classify/zero-shot.js';
import { chooseCategories, NARROW_BONUS, narrowingBias } from '../src/domain/narrow.js';
import { ObjectEncoder } from '../src/domain/object-encoder.js';
import { rerankBySilhouette, type Candidate } from '../src/domain/rerank.js';
import { confusionMatrixSvg, precisionRecallSvg } from '../lab/eval/svg.js';
import { alignedMask, bitmapIoU, fillHoles, keepLargestComponents, maskIoU, otsuThreshold, type Bitmap } from '../src/localize/mask.js';
import { MobileNetV2 } from '../src/models/mobilenet.js';
import { CIFAR_DIR, tempDir } from './fixtures.js';

/** A w × h bitmap with the rectangle [x0, x1) × [y0, y1) set. */
function rectBitmap(w: number, h: number, x0: number, y0: number, x1: number, y1: number): Bitmap {
  const data = new Uint8Array(w * h);
  for (let y = y0; y < y1; y++) for (let x = x0; x < x1; x++) data[y * w + x] = 1;
  return { width: w, height: h, data };
}

describe('silhouettes', () => {
  it('compare by shape: the same shape at another place and scale overlaps fully, another aspect does not', () => {
    const a = alignedMask(rectBitmap(100, 100, 10, 10, 30, 70))!; // 20 × 60
    const b = alignedMask(rectBitmap(100, 100, 50, 20, 80, 100))!; // 30 × 80: close
    const same = alignedMask(rectBitmap(100, 100, 60, 5, 70, 35))!; // 10 × 30: same 1:3 aspect
    const wide = alignedMask(rectBitmap(100, 100, 10, 40, 90, 60))!; // 80 × 20
    expect(maskIoU(a.bits, same.bits)).toBeGreaterThan(0.9);
    expect(maskIoU(a.bits, b.bits)).toBeGreaterThan(0.6);
    expect(maskIoU(a.bits, wide.bits)).toBeLessThan(0.3);
    expect(a.box).toEqual({ x0: 0.1, y0: 0.1, x1: 0.3, y1: 0.7 });
    expect(a.area).toBeCloseTo(0.12, 5);
    expect(a.bits.length).toBe(128);
  });

  it('keeps true proportions when the working copy was squashed square', () => {
    // A square object in a 2:1 image looks 1 wide × 2 tall once squashed to a square.
    const squashed = alignedMask(rectBitmap(100, 100, 40, 30, 50, 50), 2)!;
    const square = alignedMask(rectBitmap(100, 100, 20, 20, 40, 40), 1)!;
    expect(maskIoU(squashed.bits, square.bits)).toBeGreaterThan(0.9);
  });

  it('thresholds, cleans specks and fills holes', () => {
    const values = new Float32Array(1000).map((_, i) => (i < 700 ? 0.1 : 0.9));
    const t = otsuThreshold(values);
    expect(t).toBeGreaterThan(0.1);
    expect(t).toBeLessThan(0.9);
    const ring = rectBitmap(20, 20, 4, 4, 16, 16);
    for (let y = 8; y < 12; y++) for (let x = 8; x < 12; x++) ring.data[y * 20 + x] = 0; // a hole
    ring.data[0] = 1; // a speck
    const clean = fillHoles(keepLargestComponents(ring));
    expect(bitmapIoU(clean, rectBitmap(20, 20, 4, 4, 16, 16))).toBe(1);
  });
});

describe('narrowing and re-ranking', () => {
  it('searches the confident categories first and falls back to everything when unsure', () => {
    const cats = ['a', 'b', 'c', 'd'];
    expect(chooseCategories([0.7, 0.2, 0.05, 0.05], cats).chosen).toEqual([0]);
    expect(chooseCategories([0.45, 0.4, 0.1, 0.05], cats).chosen).toEqual([0, 1]);
    expect(chooseCategories([0.28, 0.26, 0.24, 0.22], cats).chosen).toEqual([]);
    const bias = narrowingBias(Int32Array.from([0, 1, 2, -1, 0]), [0], Float32Array.from([0, 0, 0, 0, -Infinity]));
    expect(Array.from(bias)).toEqual([NARROW_BONUS, 0, 0, 0, -Infinity]);
  });

  it('re-ranks the head by silhouette within a narrowing tier', () => {
    const tall = alignedMask(rectBitmap(64, 64, 20, 4, 36, 60))!.bits;
    const wide = alignedMask(rectBitmap(64, 64, 4, 20, 60, 36))!.bits;
    const masks = new Uint8Array(3 * 128);
    masks.set(wide, 0);
    masks.set(tall, 128);
    masks.set(tall, 256);
    const cands: Candidate[] = [
      { row: 0, score: NARROW_BONUS + 0.9, cosine: 0.9 },
      { row: 1, score: NARROW_BONUS + 0.85, cosine: 0.85 },
      { row: 2, score: 0.95, cosine: 0.95 }, // outside the chosen categories: stays below
    ];
    rerankBySilhouette(cands, tall, masks, 128, Uint8Array.from([1, 1, 1]), { weight: 0.5 });
    expect(cands.map((c) => c.row)).toEqual([1, 0, 2]);
    expect(cands[0]!.iou).toBe(1);
  });
});

describe('plots', () => {
  it('draws a confusion matrix and precision–recall curves as SVG', () => {
    const svg = confusionMatrixSvg(
      ['cat', 'dog'],
      [
        [8, 2],
        [1, 9],
      ],
      'pets <test>',
    );
    expect(svg).toMatch(/^<svg [^>]*xmlns="http:\/\/www.w3.org\/2000\/svg"/);
    expect(svg).toContain('pets &lt;test&gt;');
    expect(svg.match(/<rect x=/g)).toHaveLength(4);
    expect(svg).toContain('>9</text>');
    const pr = precisionRecallSvg([{ label: 'a', recall: [0, 0.5, 1], precision: [1, 0.8, 0.5] }], 'PR');
    expect(pr).toContain('<polyline');
    expect(pr.trim().endsWith('</svg>')).toBe(true);
  });
});

describe('category classifier on real image features', () => {
  it('cross-validates, calibrates, round-trips through its file; zero-shot from names alone', async () => {
    // 3 CIFAR-10 classes × 24 images, embedded with the real model.
    const classes = ['automobile', 'bird', 'ship'];
    const files = classes.flatMap((c) =>
      fs
        .readdirSync(path.join(CIFAR_DIR, 'test', c))
        .sort()
        .slice(0, 24)
        .map((f) => ({ file: path.join(CIFAR_DIR, 'test', c, f), label: c })),
    );
    const model = await MobileNetV2.load({ threads: 1 });
    const pixels = await Promise.all(
      files.map(async (f) => (await import('sharp')).default(f.file).resize(224, 224, { fit: 'fill' }).removeAlpha().raw().toBuffer()),
    );
    const out = await model.embed(pixels);
    await model.close();
    const rows = { count: files.length, features: out.features, probs: out.probs };
    const labels = files.map((f) => f.label);

    const folds = stratifiedFolds(
      Int32Array.from(labels, (l) => classes.indexOf(l)),
      3,
      1,
    );
    for (let f = 0; f < 3; f++) expect(Array.from(folds).filter((x) => x === f)).toHaveLength(24);

    const cv = crossValidate(rows, labels, { folds: 3, epochs: 15 });
    expect(cv.categories).toEqual(classes);
    expect(cv.accuracy).toBeGreaterThan(0.7); // chance: 0.33
    expect(cv.confusion.flat().reduce((s, v) => s + v, 0)).toBe(72);
    expect(cv.models).toHaveLength(3);

    // No labels at all: the category names through WordNet onto ImageNet's classes.
    const zs = await ZeroShotPredictor.create(classes);
    const zp = zs.predict(rows);
    let zsCorrect = 0;
    files.forEach((f, i) => {
      const p = Array.from(zp.subarray(i * 3, i * 3 + 3));
      if (p.indexOf(Math.max(...p)) === classes.indexOf(f.label)) zsCorrect++;
    });
    expect(zsCorrect / files.length).toBeGreaterThan(0.5);
    await expect(ZeroShotPredictor.create(['ship', 'zzgloop'])).rejects.toThrow(/no ImageNet class is known under "zzgloop"/);

    const { classifier } = trainCategoryClassifier(rows, labels, { folds: 3, epochs: 15, column: 'kind' });
    expect(classifier.temperature).toBeGreaterThan(0);
    const tmp = tempDir('visor-clf-');
    try {
      const file = path.join(tmp.dir, 'clf.json');
      classifier.save(file);
      const back = CategoryClassifier.load(file);
      expect(back.categories).toEqual(classes);
      expect(Array.from(back.predict(rows))).toEqual(Array.from(classifier.predict(rows)));
      expect(() => CategoryClassifier.load(path.join(tmp.dir, 'missing.json'))).toThrow(/cannot read classifier/);
    } finally {
      tmp.cleanup();
    }
  });

  it('mirror images: embedded in the same run, trained on, averaged at prediction, kept in the file', async () => {
    const classes = ['automobile', 'bird', 'ship'];
    const files = classes.flatMap((c) =>
      fs
        .readdirSync(path.join(CIFAR_DIR, 'test', c))
        .sort()
        .slice(0, 12)
        .map((f) => ({ file: path.join(CIFAR_DIR, 'test', c, f), label: c })),
    );
    const bytes = files.map((f) => fs.readFileSync(f.file));
    const encoder = await ObjectEncoder.load({ threads: 1 });
    try {
      const both = await encoder.encode(bytes, { localize: false, mirror: true });
      const only = await encoder.encode(bytes.slice(0, 2), { localize: false, mirror: 'only' });
      expect(Array.from(only[0]!.vector)).toEqual(Array.from(both[0]!.mirror!.vector));
      // The mirror of the decoded pixels is close to what decoding a mirrored file gives (libvips'
      // upscaling grid is not exactly mirror-symmetric: cosine ~0.96), far closer than the image is.
      const [flopped] = await encoder.encode([await (await import('sharp')).default(bytes[1]!).flop().png().toBuffer()], { localize: false });
      const dot = (x: Float32Array, y: Float32Array) => x.reduce((s, v, j) => s + v * y[j]!, 0);
      expect(dot(flopped!.vector, both[1]!.mirror!.vector)).toBeGreaterThan(0.9);
      expect(dot(flopped!.vector, both[1]!.mirror!.vector)).toBeGreaterThan(dot(flopped!.vector, both[1]!.vector) + 0.02);

      const stack = (pick: (e: (typeof both)[number]) => { vector: Float32Array; probs: Float32Array }) => {
        const d = both[0]!.vector.length;
        const k = both[0]!.probs.length;
        const rows = { count: both.length, features: new Float32Array(both.length * d), probs: new Float32Array(both.length * k) };
        both.forEach((e, i) => {
          rows.features.set(pick(e).vector, i * d);
          rows.probs.set(pick(e).probs, i * k);
        });
        return rows;
      };
      const rows = stack((e) => e);
      const mirrored = stack((e) => e.mirror!);
      const labels = files.map((f) => f.label);
      const cv = crossValidate(rows, labels, { folds: 3, epochs: 10, mirrored });
      expect(cv.models.every((m) => m.mirror)).toBe(true);
      expect(cv.accuracy).toBeGreaterThan(0.6); // chance: 0.33
      const { classifier } = trainCategoryClassifier(rows, labels, { folds: 3, epochs: 10, mirrored });
      expect(classifier.mirror).toBe(true);
      // Averaged logits: the mean of the image's and the mirror's.
      const a = classifier.logits(rows);
      const m = classifier.logits(mirrored);
      const avg = classifier.logits(rows, mirrored);
      for (let i = 0; i < avg.length; i++) expect(avg[i]).toBeCloseTo((a[i]! + m[i]!) / 2, 4);
      expect(() => classifier.predict(rows, { ...mirrored, count: 1 })).toThrow(/mirror images/);
      const back = CategoryClassifier.fromJSON(JSON.parse(JSON.stringify(classifier.toJSON())));
      expect(back.mirror).toBe(true);
      expect(CategoryClassifier.fromJSON(JSON.parse(JSON.stringify(cv.models[0]!.toJSON()))).mirror).toBe(true);
      const plain = trainCategoryClassifier(rows, labels, { folds: 3, epochs: 5 }).classifier;
      expect(plain.mirror).toBe(false);
      expect('mirror' in plain.toJSON()).toBe(false);
    } finally {
      await encoder.close();
    }
  });

  it('temperature scaling lowers the calibration error of over-confident scores', () => {
    // Noisy logits scaled 3×: over-confident, so the fitted temperature softens them (T > 1).
    const n = 400;
    const k = 4;
    const logits = new Float32Array(n * k);
    const labels = new Int32Array(n);
    let seed = 7;
    const rand = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
    for (let i = 0; i < n; i++) {
      labels[i] = i % k;
      for (let c = 0; c < k; c++) logits[i * k + c] = 3 * ((c === labels[i] ? 1 : 0) + 1.2 * (rand() - 0.5) * 2);
    }
    const t = fitTemperature(logits, labels, k);
    expect(t).toBeGreaterThan(1.2);
    const before = expectedCalibrationError(softmaxRows(Float32Array.from(logits), k), labels, k);
    const after = expectedCalibrationError(softmaxRows(Float32Array.from(logits), k, t), labels, k);
    expect(after).toBeLessThan(before);
  });
});
