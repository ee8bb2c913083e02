import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Collection } from '../src/collection.js';
import { CocoWords } from '../src/concepts/coco-words.js';
import { loadWordNet, type WordNet } from '../src/concepts/wordnet.js';
import type { ImageFacts } from '../src/core/facts.js';
import { compileCounts } from '../src/search/fact-filter.js';
import { readFactsQuery } from '../src/search/facts-query.js';
import { splitAnd, splitWhere, type RowFilter } from '../src/search/filter.js';
import { objectScore, scoreReading } from '../src/search/signals/objects.js';
import { printedLines, printedScores } from '../src/search/signals/printed.js';
import { FUNCTION_WORDS } from '../src/text/words.js';
import sharp from 'sharp';
import { FLICKR_TEST_IMAGES, tempDir } from './fixtures.js';

let wn: WordNet;
let words: CocoWords;
const isNoun = (w: string) => {
  if (FUNCTION_WORDS.has(w)) return false;
  const u = wn.usage(w);
  return u.noun >= Math.max(u.verb, u.adj, u.adv);
};
const read = (q: string) => readFactsQuery([q], words, isNoun);

beforeAll(async () => {
  wn = await loadWordNet();
  words = new CocoWords(wn);
});

describe('query words → detector classes (WordNet)', () => {
  it('reads kinds of a class as the class, and broad words as the classes under them', () => {
    for (const w of ['man', 'woman', 'child', 'boy', 'girl', 'player', 'climber', 'cyclist']) expect(words.read(w)?.labels, w).toEqual(['person']);
    for (const w of ['puppy', 'terrier', 'dog']) expect(words.read(w)?.labels, w).toEqual(['dog']);
    expect(words.read('automobile')?.labels).toEqual(['car']);
    expect(words.read('animal')?.labels).toContain('horse');
    expect(words.read('grass')).toBeNull();
    expect(words.read('dogs')).toMatchObject({ labels: ['dog'], plural: true });
    expect(words.read('men')).toMatchObject({ labels: ['person'], plural: true });
    expect(words.isClothing('shirt')).toBe(true);
    expect(words.isClothing('helmet')).toBe(true);
    expect(words.isClothing('rock')).toBe(false);
  });

  it('reads counts: numbers, plurals, groups, an article', () => {
    expect(read('two dogs').objects).toEqual([{ text: 'two dogs', labels: ['dog'], count: { min: 2, max: 2 }, counted: true }]);
    expect(read('3 people').objects[0]!.count).toEqual({ min: 3, max: 3 });
    expect(read('dogs').objects[0]!.count).toEqual({ min: 2, max: Infinity });
    expect(read('a group of people').objects[0]).toMatchObject({ labels: ['person'], count: { min: 3, max: Infinity } });
    expect(read('a crowd').objects[0]).toMatchObject({ labels: ['person'], count: { min: 3, max: Infinity } });
    expect(read('a man').objects[0]!.count).toEqual({ min: 1, max: 1 });
    expect(read('dog').objects[0]).toMatchObject({ counted: false });
    expect(read('a man with two dogs').objects.map((o) => [o.labels[0], o.count.min])).toEqual([
      ['person', 1],
      ['dog', 2],
    ]);
  });

  it('binds a colour to the noun it qualifies: a detected class, clothing (its wearer), else the image', () => {
    expect(read('a black dog').colours).toEqual([{ colour: 'black', word: 'black', target: { kind: 'object', term: 0 } }]);
    expect(read('a man in a red shirt').colours).toEqual([{ colour: 'red', word: 'red', target: { kind: 'worn', word: 'shirt' } }]);
    expect(read('a girl in a pink dress').colours[0]!.target).toEqual({ kind: 'worn', word: 'dress' });
    expect(read('dog on green grass').colours).toEqual([{ colour: 'green', word: 'green', target: { kind: 'image', word: 'grass' } }]);
    expect(read('a navy jacket').colours[0]).toMatchObject({ colour: 'blue', word: 'navy' });
    expect(read('gray car').colours[0]).toMatchObject({ colour: 'grey', target: { kind: 'object', term: 0 } });
    expect(read('a black and white dog').colours.map((c) => c.colour)).toEqual(['black', 'white']);
    // A scene's colour goes without saying.
    expect(read('a dog runs through the snow').colours).toEqual([{ colour: 'white', word: 'snow', target: { kind: 'image', word: 'snow' }, implied: true }]);
  });
});

const box = [0, 0, 10, 10] as [number, number, number, number];
const facts = (objects: ImageFacts['objects'], colours: ImageFacts['colours'] = [], text: ImageFacts['text'] = []): ImageFacts => ({
  stages: { objects: 'test', colours: 'test', text: 'test' },
  width: 100,
  height: 100,
  objects,
  colours,
  text,
});

describe('scoring images by their facts', () => {
  it('prefers the count asked for', () => {
    const [two] = read('two dogs').objects;
    const dogs = (n: number) => Array.from({ length: n }, () => ({ label: 'dog', score: 0.8, box }));
    expect(objectScore(two!, dogs(2))).toBeGreaterThan(objectScore(two!, dogs(1)));
    expect(objectScore(two!, dogs(2))).toBeGreaterThan(objectScore(two!, dogs(4)));
    expect(objectScore(two!, [])).toBe(0);
  });

  it('scores a colour in the box it is bound to, and the image colour when the object is not found', () => {
    const blackDog = facts([{ label: 'dog', score: 0.8, box, colours: [{ name: 'black', share: 0.7 }] }], [{ name: 'green', share: 0.6 }]);
    const brownDog = facts([{ label: 'dog', score: 0.8, box, colours: [{ name: 'brown', share: 0.7 }] }], [{ name: 'black', share: 0.6 }]);
    const { scores } = scoreReading(read('a black dog'), [blackDog, brownDog, undefined]);
    expect(scores[0]).toBeGreaterThan(scores[1]!);
    expect(scores[1]).toBeGreaterThan(scores[2]!);
    const redImage = facts([], [{ name: 'red', share: 0.5 }]);
    const grey = facts([], [{ name: 'grey', share: 0.5 }]);
    const car = scoreReading(read('red car'), [redImage, grey]).scores;
    expect(car[0]).toBeGreaterThan(car[1]!);
  });

  it('finds printed words by BM25, and a quoted phrase only where its words are adjacent', () => {
    const line = (text: string) => ({ text, score: 0.9, box });
    const rows = [facts([], [], [line('BIG SALE today')]), facts([], [], [line('sale of big boats')]), facts([], [], []), undefined];
    const loose = printedScores(rows, ['sale'])!;
    expect(loose[0]).toBeGreaterThan(0);
    expect(loose[1]).toBeGreaterThan(0);
    expect(loose[2]).toBe(0);
    const phrase = printedScores(rows, ['big sale'])!;
    expect(phrase[0]).toBeGreaterThan(0);
    expect(phrase[1]).toBe(0);
    expect(printedScores(rows, ['zebra'])).toBeNull();
  });

  it('ranks a word read as typed first, then another form of it, then a near miss; short words and numbers need the exact read', () => {
    const line = (text: string) => ({ text, score: 0.9, box });
    // The reader lost a faint first letter of "feeder" in the third image.
    const rows = [
      facts([], [], [line('parks')]),
      facts([], [], [line('park')]),
      facts([], [], [line('eeder')]),
      facts([], [], [line('feeder')]),
      facts([], [], [line('feeler')]),
    ];
    const park = printedScores(rows, ['park'])!;
    expect(park[1]).toBeGreaterThan(park[0]!);
    expect(park[0]).toBeGreaterThan(0);
    const feeder = printedScores(rows, ['feeder'])!;
    expect(feeder[3]).toBeGreaterThan(feeder[2]!);
    expect(feeder[2]).toBeGreaterThan(0);
    expect(feeder[4]).toBeGreaterThan(0); // "feeler" is one letter off too
    expect(printedScores(rows, ['feeder'], false)![2]).toBe(0);
    expect(printedLines(rows[2], ['feeder'])).toEqual(["'eeder' ≈ feeder"]);
    // Four letters allow no edit ("parks" is not a near miss of "pans"), nor do numbers.
    expect(printedScores(rows, ['pans'])).toBeNull();
    expect(printedScores([facts([], [], [line('85234')])], ['85235'])).toBeNull();
  });
});

describe('filters on counts', () => {
  const labelOf = (c: string) => (c.endsWith('_count') ? c.slice(0, -6).replace(/_/g, ' ') : undefined);

  it('splits a where at its top-level ANDs', () => {
    expect(splitAnd("price < 20 AND dog_count >= 1 AND (a = 1 OR b = 'x AND y')")).toEqual(['price < 20', 'dog_count >= 1', "(a = 1 OR b = 'x AND y')"]);
    expect(splitAnd('n BETWEEN 1 AND 3 AND person_count > 1')).toEqual(['n BETWEEN 1 AND 3', 'person_count > 1']);
  });

  it('gives fact conjuncts to their filter and the rest to the store; refuses an OR mixing both', () => {
    const filter: RowFilter = { name: 'facts', owns: (c) => c.endsWith('_count'), admit: async () => new Uint8Array() };
    const split = splitWhere({ where: 'price < 20 AND dog_count >= 1' }, [filter]);
    expect(split.store).toBe('(price < 20)');
    expect(split.filters[0]!.conjuncts).toEqual(['dog_count >= 1']);
    expect(splitWhere({ where: 'price < 20' }, [filter])).toEqual({ store: 'price < 20', filters: [] });
    expect(() => splitWhere({ where: 'price < 20 OR dog_count >= 1' }, [filter])).toThrow(/AND at the top level/);
  });

  it('evaluates count comparisons', () => {
    const t = compileCounts('person_count >= 3 AND NOT (dog_count = 0 OR dining_table_count BETWEEN 1 AND 2)', 'w', labelOf);
    expect(t({ person: 3, dog: 1 })).toBe(true);
    expect(t({ person: 3 })).toBe(false);
    expect(t({ person: 2, dog: 1 })).toBe(false);
    expect(t({ person: 4, dog: 1, 'dining table': 1 })).toBe(false);
    expect(() => compileCounts('person_count >= many', 'w', labelOf)).toThrow(/FILTER_INVALID|compared with a number/);
  });
});

describe('search with facts (end to end)', () => {
  const tmp = tempDir('visor-facts-search-');
  let c: Collection;
  const photos = {
    pug: '1394368714_3bc7c19969.jpg', // a man with a pug: a dog and four people
    car: '2943023421_e297f05e11.jpg', // a dark car splashing through water
    family: '3250695024_93e8ab7305.jpg', // a family group: four people
    womanDog: '757332692_6866ae545c.jpg', // a woman and a dog: two people
  };
  const ids: Record<string, string> = {};

  beforeAll(async () => {
    const dir = path.join(tmp.dir, 'photos');
    fs.mkdirSync(dir);
    for (const f of Object.values(photos)) fs.copyFileSync(path.join(FLICKR_TEST_IMAGES, f), path.join(dir, f));
    c = await Collection.open({ db: path.join(tmp.dir, 'db'), create: true });
    // Indexed with the objects and colours stages: the real detector and colour namer.
    await c.index([dir], { facts: ['objects', 'colours'] });
    for (const s of await c.store.fileStates()) ids[path.basename(s.path)] = s.id;
  }, 60_000);

  afterAll(async () => {
    await c?.close();
    tmp.cleanup();
  });

  // The facts' own signals: the visual concepts would otherwise rank these four photos too.
  const factsOnly = { weights: { concepts: 0 } };
  const top = async (text: string, extra: object = {}) => {
    const r = await c.search({ text, k: 4, ...factsOnly, ...extra });
    return r.results.map((x) => path.basename(x.path));
  };

  it('finds objects and people, with reasons', async () => {
    const r = await c.search({ text: 'dog', k: 4, ...factsOnly });
    expect(r.signals.find((s) => s.name === 'objects')?.understood).toBe(true);
    expect(
      r.results
        .slice(0, 2)
        .map((x) => path.basename(x.path))
        .sort(),
    ).toEqual([photos.pug, photos.womanDog].sort());
    expect(r.results[0]!.why.objects).toEqual(['dog ×1']);
    expect((await top('a car'))[0]).toBe(photos.car);
  });

  it('ranks by the count asked for', async () => {
    expect((await top('two people'))[0]).toBe(photos.womanDog);
    expect((await top('a man'))[0]).not.toBe(photos.family);
  });

  it('binds colours: a black car', async () => {
    const r = await c.search({ text: 'black car', k: 1, ...factsOnly });
    expect(path.basename(r.results[0]!.path)).toBe(photos.car);
    expect(r.results[0]!.why.objects).toEqual(['car ×1', 'black in car box']);
  });

  it('filters on counts and colours', async () => {
    // Words every photo answers (through the visual concepts), filtered.
    const all = { weights: { concepts: 1 } };
    expect((await top('photo', { ...all, where: 'person_count >= 3' })).sort()).toEqual([photos.pug, photos.family].sort());
    expect(await top('photo', { ...all, where: 'dog_count >= 1 AND person_count = 2' })).toEqual([photos.womanDog]);
    expect(await top('photo', { ...all, where: "person_count = 0 AND path LIKE '%.jpg'" })).toEqual([photos.car]);
    expect((await top('photo', { ...all, colour: 'blue' })).sort()).toEqual([photos.car, photos.family].sort());
    await expect(c.search({ text: 'photo', where: "path = 'x' OR dog_count >= 1" })).rejects.toThrow(/AND at the top level/);
  });
});

describe('search by printed text (end to end)', () => {
  const tmp = tempDir('visor-printed-search-');
  let c: Collection;

  beforeAll(async () => {
    const dir = path.join(tmp.dir, 'photos');
    fs.mkdirSync(dir);
    // A photo with a word printed across it, beside two photos without.
    const svg =
      '<svg width="448" height="448"><rect x="40" y="170" width="368" height="110" fill="white"/>' +
      '<text x="224" y="255" font-family="DejaVu Sans" font-weight="bold" font-size="80" text-anchor="middle" fill="black">BAKERY</text></svg>';
    await sharp(path.join(FLICKR_TEST_IMAGES, '2943023421_e297f05e11.jpg'))
      .resize(448, 448)
      .composite([{ input: Buffer.from(svg) }])
      .jpeg()
      .toFile(path.join(dir, 'sign.jpg'));
    for (const f of ['1394368714_3bc7c19969.jpg', '3250695024_93e8ab7305.jpg']) fs.copyFileSync(path.join(FLICKR_TEST_IMAGES, f), path.join(dir, f));
    c = await Collection.open({ db: path.join(tmp.dir, 'db'), create: true });
    // Indexed with the text stage: PaddleOCR reads each photo.
    await c.index([dir], { facts: ['text'] });
  }, 60_000);

  afterAll(async () => {
    await c?.close();
    tmp.cleanup();
  });

  it('finds the image by a word printed in it, and says where it was read', async () => {
    const r = await c.search({ text: 'bakery', k: 3 });
    expect(r.signals.find((s) => s.name === 'printed')?.understood).toBe(true);
    expect(path.basename(r.results[0]!.path)).toBe('sign.jpg');
    expect(r.results[0]!.why.printed).toMatch(/^text: 'BAKERY'/i);
    // Words no image shows in print: the signal says so and leaves the ranking to the others.
    const none = await c.search({ text: 'dog', k: 3 });
    expect(none.signals.find((s) => s.name === 'printed')).toMatchObject({ understood: false });
  });
});
