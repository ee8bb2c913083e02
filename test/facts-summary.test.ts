import { describe, expect, it } from 'vitest';
import type { Detection, ImageFacts, TextLine } from '../src/core/facts.js';
import { describeFacts, objectCounts, readingOrder, summarizeFacts } from '../src/facts/summary.js';
import { bitmapArea } from '../src/localize/mask.js';
import { boxFraction, chooseDetection, labelMatches, localizeInBox } from '../src/localize/object-box.js';

const det = (label: string, score: number, box: Detection['box'] = [0, 0, 10, 10], colour?: string): Detection => ({
  label,
  score,
  box,
  ...(colour ? { colours: [{ name: colour as 'red', share: 0.5 }] } : {}),
});
const line = (text: string, box: TextLine['box']): TextLine => ({ text, score: 0.9, box });

describe('facts as people read them', () => {
  it('counts objects per class, most frequent first, ties by their best detection', () => {
    expect(objectCounts([det('dog', 0.5), det('person', 0.9), det('cat', 0.95), det('person', 0.4)])).toEqual([
      { label: 'person', count: 2 },
      { label: 'cat', count: 1 },
      { label: 'dog', count: 1 },
    ]);
  });

  it('reads text boxes in rows, top to bottom, each left to right', () => {
    const read = readingOrder([line('CLOSED', [60, 12, 100, 30]), line('below', [0, 50, 40, 70]), line('PARK', [0, 10, 50, 28])]);
    expect(read.map((l) => l.text)).toEqual(['PARK', 'CLOSED', 'below']);
  });

  it('says what each stage found, "none found" when it found nothing, and nothing for a stage that did not run', () => {
    const facts: ImageFacts = {
      stages: { objects: 'yolox-nano-coco', colours: 'lab-basic', text: 'ppocr' },
      width: 100,
      height: 100,
      objects: [det('person', 0.9, [0, 0, 10, 10], 'red'), det('dog', 0.8, [0, 0, 10, 10], 'brown'), det('person', 0.7, [0, 0, 10, 10], 'red')],
      colours: [
        { name: 'green', share: 0.452 },
        { name: 'blue', share: 0.2 },
      ],
      text: [],
    };
    expect(describeFacts(facts)).toEqual(['objects: person ×2, dog ×1', '  person: red', '  dog: brown', 'colours: green 45%, blue 20%', 'text: (none found)']);
    expect(describeFacts({ stages: { objects: 'yolox-nano-coco' }, width: 1, height: 1, objects: [] })).toEqual(['objects: (none found)']);
    expect(summarizeFacts({ stages: {}, width: 1, height: 1 })).toEqual({});
  });
});

describe('localising by the detector (--method objects)', () => {
  it('matches detector labels to categories by their words, plurals and head nouns', () => {
    expect(labelMatches('dog', 'Dogs')).toBe(true);
    expect(labelMatches('wine glass', 'wine glasses')).toBe(true);
    expect(labelMatches('car', 'sports car')).toBe(true);
    expect(labelMatches('car', 'cart')).toBe(false);
    expect(labelMatches('glass', 'glasses case')).toBe(false);
  });

  it("chooses the best sure detection, or the best one of the item's category", () => {
    const objects = [det('person', 0.9), det('dog', 0.6), det('dog', 0.7), det('bottle', 0.2)];
    expect(chooseDetection(objects)?.score).toBe(0.9);
    expect(chooseDetection(objects, 'dogs')).toEqual(objects[2]);
    expect(chooseDetection(objects, 'bottle')?.label).toBe('person'); // 0.2 is not sure enough: the category cannot pick it
    expect(chooseDetection([det('bottle', 0.2)])).toBeUndefined();
  });

  it('turns a box into fractions of its image, clamped to the frame', () => {
    expect(boxFraction(det('dog', 1, [-5, 50, 100, 250]), 200, 200)).toEqual({ x0: 0, y0: 0.25, x1: 0.5, y1: 1 });
  });

  it('cuts the object out of its box by colour, and falls back to the box where colour cannot tell', () => {
    // A red disc on green grass, the box around it with grass in its corners.
    const side = 64;
    const data = new Uint8Array(side * side * 3);
    for (let y = 0; y < side; y++) {
      for (let x = 0; x < side; x++) {
        const inDisc = (x - 40) ** 2 + (y - 24) ** 2 < 12 ** 2;
        data.set(inDisc ? [200, 30, 30] : [40, 140, 50], (y * side + x) * 3);
      }
    }
    const img = { width: side, height: side, data };
    const box = { x0: 26 / side, y0: 10 / side, x1: 54 / side, y1: 38 / side };
    const disc = localizeInBox(box, img, 1);
    expect(disc.found).toBe(true);
    const area = bitmapArea(disc.bitmap);
    expect(area).toBeGreaterThan(0.8 * Math.PI * 144);
    expect(area).toBeLessThan(1.2 * Math.PI * 144); // the disc, not the box (28² = 784)
    expect(disc.mask.box.x0).toBeCloseTo(28 / side, 1);
    // One flat colour everywhere: nothing to tell apart, so the box stands for the object.
    const flat = localizeInBox(box, { width: side, height: side, data: new Uint8Array(side * side * 3).fill(128) }, 1);
    expect(bitmapArea(flat.bitmap)).toBe(28 * 28);
  });
});
