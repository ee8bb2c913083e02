import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { BASIC_COLOURS, type BasicColour } from '../src/core/facts.js';
import { decodeRgb, DEFAULT_MAX_PIXELS } from '../src/image/decode.js';
import { evalColours } from '../lab/eval/colours.js';
import { COLOURS_READER_ID, createColoursReader } from '../src/facts/colours-reader.js';
import { backdropColour, colourHistogram, colourIndex, mainColours, nameRgb, type RgbPixels } from '../src/image/colour-names.js';
import { FLICKR_TEST_IMAGES } from './fixtures.js';

/**
 * Named colours and the basic term(s) an English speaker would give them; several where
 * people disagree (olive, teal, salmon…). CSS named colours, CLEVR's eight colours (the
 * composed-retrieval scenes) and a few ISCC–NBS centroids.
 */
const KNOWN: Array<[hex: string, name: string, accepted: BasicColour[]]> = [
  ['000000', 'black', ['black']],
  ['101010', 'near black', ['black']],
  ['ffffff', 'white', ['white']],
  ['f5f5f5', 'whitesmoke', ['white']],
  ['dcdcdc', 'gainsboro', ['white', 'grey']],
  ['d3d3d3', 'lightgray', ['grey', 'white']],
  ['c0c0c0', 'silver', ['grey']],
  ['808080', 'gray', ['grey']],
  ['696969', 'dimgray', ['grey']],
  ['404040', 'dark grey', ['grey', 'black']],
  ['ff0000', 'red', ['red']],
  ['dc143c', 'crimson', ['red']],
  ['b22222', 'firebrick', ['red']],
  ['8b0000', 'darkred', ['red']],
  ['800000', 'maroon', ['red', 'brown']],
  ['800020', 'burgundy', ['red']],
  ['ff6347', 'tomato', ['red', 'orange']],
  ['fa8072', 'salmon', ['pink', 'orange', 'red']],
  ['ff7f50', 'coral', ['orange', 'pink']],
  ['ffa500', 'orange', ['orange']],
  ['ff8c00', 'darkorange', ['orange']],
  ['ffff00', 'yellow', ['yellow']],
  ['ffd700', 'gold', ['yellow']],
  ['f0e68c', 'khaki', ['yellow']],
  ['f5f5dc', 'beige', ['white', 'yellow']],
  ['fffff0', 'ivory', ['white']],
  ['fffacd', 'lemonchiffon', ['yellow', 'white']],
  ['808000', 'olive', ['green', 'brown', 'yellow']],
  ['6b8e23', 'olivedrab', ['green']],
  ['9acd32', 'yellowgreen', ['green']],
  ['7fff00', 'chartreuse', ['green']],
  ['00ff00', 'lime', ['green']],
  ['008000', 'green', ['green']],
  ['006400', 'darkgreen', ['green']],
  ['228b22', 'forestgreen', ['green']],
  ['2e8b57', 'seagreen', ['green']],
  ['90ee90', 'lightgreen', ['green']],
  ['008080', 'teal', ['green', 'blue']],
  ['00ffff', 'cyan', ['blue', 'green']],
  ['40e0d0', 'turquoise', ['blue', 'green']],
  ['5f9ea0', 'cadetblue', ['blue', 'green']],
  ['000080', 'navy', ['blue']],
  ['00008b', 'darkblue', ['blue']],
  ['191970', 'midnightblue', ['blue']],
  ['0000ff', 'blue', ['blue']],
  ['4169e1', 'royalblue', ['blue']],
  ['1e90ff', 'dodgerblue', ['blue']],
  ['4682b4', 'steelblue', ['blue']],
  ['87ceeb', 'skyblue', ['blue']],
  ['add8e6', 'lightblue', ['blue']],
  ['708090', 'slategray', ['grey', 'blue']],
  ['6a5acd', 'slateblue', ['blue', 'purple']],
  ['4b0082', 'indigo', ['purple', 'blue']],
  ['9400d3', 'darkviolet', ['purple']],
  ['800080', 'purple', ['purple']],
  ['ff00ff', 'magenta', ['purple', 'pink']],
  ['ee82ee', 'violet', ['purple', 'pink']],
  ['dda0dd', 'plum', ['purple', 'pink']],
  ['e6e6fa', 'lavender', ['white', 'purple']],
  ['ffc0cb', 'pink', ['pink']],
  ['ffb6c1', 'lightpink', ['pink']],
  ['ff69b4', 'hotpink', ['pink']],
  ['ff1493', 'deeppink', ['pink']],
  ['c71585', 'mediumvioletred', ['pink', 'purple', 'red']],
  ['a52a2a', 'brown', ['brown', 'red']],
  ['8b4513', 'saddlebrown', ['brown']],
  ['a0522d', 'sienna', ['brown']],
  ['d2691e', 'chocolate', ['brown', 'orange']],
  ['cd853f', 'peru', ['brown', 'orange']],
  ['d2b48c', 'tan', ['brown']],
  ['deb887', 'burlywood', ['brown']],
  ['bc8f8f', 'rosybrown', ['pink', 'brown']],
  // CLEVR's colours as the composed-retrieval scenes draw them (cyan: between blue and green).
  ['575757', 'CLEVR gray', ['grey']],
  ['ad2323', 'CLEVR red', ['red']],
  ['2a4bd7', 'CLEVR blue', ['blue']],
  ['1d6914', 'CLEVR green', ['green']],
  ['814a19', 'CLEVR brown', ['brown']],
  ['8126c0', 'CLEVR purple', ['purple']],
  ['29d0d0', 'CLEVR cyan', ['blue', 'green']],
  ['ffee33', 'CLEVR yellow', ['yellow']],
  // ISCC–NBS centroids.
  ['be0032', 'ISCC vivid red', ['red']],
  ['80461b', 'ISCC strong brown', ['brown']],
  ['f38400', 'ISCC vivid orange', ['orange']],
  ['f3c300', 'ISCC vivid yellow', ['yellow']],
  ['008856', 'ISCC vivid green', ['green']],
  ['0067a5', 'ISCC strong blue', ['blue']],
  ['9a4eae', 'ISCC vivid purple', ['purple']],
  ['ffb5ba', 'ISCC vivid pink', ['pink']],
  ['5e716a', 'ISCC grayish green', ['green']],
  ['7d8984', 'ISCC greenish gray', ['grey']],
];

const rgb = (hex: string): [number, number, number] => [0, 2, 4].map((i) => parseInt(hex.slice(i, i + 2), 16)) as [number, number, number];

/** An image filled by `fill(x, y)` → RGB. */
function image(width: number, height: number, fill: (x: number, y: number) => [number, number, number]): RgbPixels {
  const data = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) data.set(fill(x, y), (y * width + x) * 3);
  return { data, width, height };
}

const RED = rgb('e01010');
const BLUE = rgb('1030c0');
const BACKDROP = rgb('e6e6e6');

describe('colour names', () => {
  it.each(KNOWN)('#%s (%s) is named %j', (hex, _name, accepted) => {
    expect(accepted).toContain(nameRgb(...rgb(hex)));
  });

  it('the lookup table agrees with the exact naming on nearly every colour', () => {
    let seed = 7;
    const next = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) >>> 24;
    let agree = 0;
    for (let i = 0; i < 20_000; i++) {
      const [r, g, b] = [next(), next(), next()];
      if (BASIC_COLOURS[colourIndex(r, g, b)] === nameRgb(r, g, b)) agree++;
    }
    expect(agree / 20_000).toBeGreaterThan(0.97);
  });
});

describe('main colours', () => {
  it('two coloured halves share the image about equally', () => {
    const img = image(64, 48, (x) => (x < 32 ? RED : BLUE));
    const shares = mainColours(img);
    expect(shares.map((s) => s.name).sort()).toEqual(['blue', 'red']);
    for (const s of shares) expect(s.share).toBeCloseTo(0.5, 1);
    // A large image is read on a grid of samples and comes out the same.
    const big = image(1000, 800, (x) => (x < 500 ? RED : BLUE));
    for (const s of mainColours(big)) expect(s.share).toBeCloseTo(0.5, 1);
  });

  it('a box reads the colours inside it, its centre weighing more than its edges', () => {
    // A red square (16..48) on a light backdrop, and a blue band along the right edge.
    const img = image(80, 64, (x, y) => (x >= 72 ? BLUE : x >= 16 && x < 48 && y >= 16 && y < 48 ? RED : BACKDROP));
    expect(mainColours(img, [16, 16, 48, 48])).toEqual([{ name: 'red', share: 1 }]);
    expect(mainColours(img, [72, 0, 80, 64])).toEqual([{ name: 'blue', share: 1 }]);
    // A loose box (half the area is backdrop, around the edges): centre weighting favours the object.
    const loose: [number, number, number, number] = [9, 9, 55, 55];
    const flat = mainColours(img, loose, { centre: 0 });
    const weighted = mainColours(img, loose, { centre: 0.5 });
    expect(flat[0]!.name).toBe('white');
    expect(weighted[0]!.name).toBe('red');
    expect(weighted[0]!.share).toBeGreaterThan(flat.find((s) => s.name === 'red')!.share);
  });

  it('drops small shares, keeps at most `max`, and leaves out excluded colours', () => {
    // 70% backdrop, 22% red, 8% blue, in vertical bands.
    const img = image(100, 10, (x) => (x < 70 ? BACKDROP : x < 92 ? RED : BLUE));
    expect(mainColours(img).map((s) => s.name)).toEqual(['white', 'red']);
    expect(mainColours(img, undefined, { minShare: 0.05 }).map((s) => s.name)).toEqual(['white', 'red', 'blue']);
    expect(mainColours(img, undefined, { max: 1 }).map((s) => s.name)).toEqual(['white']);
    const noBackdrop = mainColours(img, undefined, { exclude: ['white'] });
    expect(noBackdrop.map((s) => s.name)).toEqual(['red', 'blue']);
    expect(noBackdrop[0]!.share).toBeCloseTo(22 / 30, 2);
  });

  it('finds a plain backdrop, and none in a mixed border', () => {
    expect(backdropColour(image(64, 64, (x, y) => (x > 20 && x < 40 && y > 20 && y < 40 ? RED : BACKDROP)))).toBe('white');
    expect(backdropColour(image(64, 64, (x) => (x < 32 ? RED : BLUE)))).toBeNull();
  });

  it('empty and one-pixel images, and boxes outside the image', () => {
    expect(mainColours({ data: new Uint8Array(0), width: 0, height: 0 })).toEqual([]);
    expect(colourHistogram({ data: new Uint8Array(0), width: 0, height: 0 }).every((v) => v === 0)).toBe(true);
    expect(mainColours(image(1, 1, () => RED))).toEqual([{ name: 'red', share: 1 }]);
    expect(
      mainColours(
        image(1, 1, () => RED),
        [0, 0, 1, 1],
      ),
    ).toEqual([{ name: 'red', share: 1 }]);
    expect(
      mainColours(
        image(8, 8, () => RED),
        [10, 10, 20, 20],
      ),
    ).toEqual([]);
    expect(
      mainColours(
        image(8, 8, () => RED),
        [4, 4, 4, 8],
      ),
    ).toEqual([]);
    expect(backdropColour(image(1, 1, () => RED))).toBeNull();
  });
});

describe('the colours reader', () => {
  // Two objects on a plain backdrop: a red square at the top left, a blue one at the bottom right.
  const img = image(96, 96, (x, y) => (x >= 8 && x < 40 && y >= 8 && y < 40 ? RED : x >= 56 && x < 88 && y >= 56 && y < 88 ? BLUE : BACKDROP));
  const objects = [
    { label: 'kite', score: 0.9, box: [4, 4, 44, 44] as [number, number, number, number] },
    { label: 'kite', score: 0.8, box: [52, 52, 92, 92] as [number, number, number, number] },
  ];

  it('names the colours of the image, backdrop left out, and of every object box', async () => {
    const reader = createColoursReader();
    expect(reader.stage).toBe('colours');
    expect(reader.id).toBe(COLOURS_READER_ID);
    const facts = await reader.read(img, { objects });
    expect(facts.colours!.map((c) => c.name).sort()).toEqual(['blue', 'red']);
    expect(facts.objects!.map((d) => d.colours![0]!.name)).toEqual(['red', 'blue']);
    expect(facts.objects![0]).toMatchObject({ label: 'kite', score: 0.9, box: [4, 4, 44, 44] });
    // The backdrop kept on request; without objects found, only the image's colours.
    const kept = await createColoursReader({ dropBackdrop: false }).read(img, {});
    expect(kept.colours![0]!.name).toBe('white');
    expect(kept.objects).toBeUndefined();
    expect((await reader.read(img, { objects: [] })).objects).toEqual([]);
  });

  it('an image that is all backdrop keeps it as its colour', async () => {
    expect(
      (
        await createColoursReader().read(
          image(32, 32, () => BACKDROP),
          {},
        )
      ).colours,
    ).toEqual([{ name: 'white', share: 1 }]);
  });

  it('the colour evaluation runs end to end on a few scenes', async () => {
    const report = await evalColours({ scenes: 60, imageSize: 96 });
    const byName = Object.fromEntries(report.configs.map((c) => [c.name, c]));
    expect(byName['image-no-backdrop']!.colour.map).toBeGreaterThan(0.8);
    expect(byName['boxes']!.colourShape.map).toBeGreaterThan(0.8);
    expect(report.boxTopColourAccuracy['centre 1']).toBeGreaterThan(report.boxTopColourAccuracy['centre 0']!);
  });
});

const PHOTO = path.join(FLICKR_TEST_IMAGES, '2218609886_892dcd6915.jpg');

describe.skipIf(!fs.existsSync(PHOTO))('a Flickr8k photo', () => {
  it('"a man sits against a yellow wall" (a green door beside it): yellow and green, each where it is', async () => {
    const { pixels, width, height } = await decodeRgb(fs.readFileSync(PHOTO), { maxPixels: DEFAULT_MAX_PIXELS });
    const img = { data: new Uint8Array(pixels), width, height };
    const whole = mainColours(img).map((s) => s.name);
    expect(whole).toContain('yellow');
    expect(whole).toContain('green');
    expect(mainColours(img, [0, 0, 140, 140])[0]!.name).toBe('yellow'); // the wall, top left
    expect(mainColours(img, [150, 0, 224, 130])[0]!.name).toBe('green'); // the door, top right
  });
});
