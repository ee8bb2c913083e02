import fs from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ConceptSpace, GENERIC_CONCEPTS, IMAGENET_WN31, loadConceptSpace, type ConceptCandidate } from '../src/concepts/concept-space.js';
import { loadWordNet, type WordNet } from '../src/concepts/wordnet.js';
import { MODELS_DIR } from './fixtures.js';

/** The model's class list ([wnid, label] in class order), as MobileNetV2.load reads it. */
const labels = JSON.parse(fs.readFileSync(path.join(MODELS_DIR, 'mobilenetv2-12-int8', 'imagenet_labels.json'), 'utf8')) as Array<[string, string]>;
const classes = labels.map(([wnid, label], index) => ({ index, wnid, label: label.replace(/_/g, ' ') }));
const labelOf = (i: number) => classes[i]!.label;
const classIndex = (label: string) => {
  const i = classes.findIndex((c) => c.label === label);
  if (i < 0) throw new Error(`no class ${label}`);
  return i;
};
const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

let wn: WordNet;
let space: ConceptSpace;

beforeAll(async () => {
  wn = await loadWordNet();
  const t0 = performance.now();
  space = await loadConceptSpace(classes);
  console.log(`concept space built in ${(performance.now() - t0).toFixed(0)} ms`);
});

/** The candidate for the word's most frequent sense. */
function first(word: string): ConceptCandidate {
  const c = space.coverage(word)[0];
  if (!c) throw new Error(`${word}: no coverage`);
  return c;
}

describe('ImageNet → WordNet 3.1 mapping', () => {
  it('maps all 1000 classes, in class order, to distinct 3.1 synsets reached by their sense keys', () => {
    expect(IMAGENET_WN31).toHaveLength(1000);
    expect(IMAGENET_WN31.map((e) => e.wnid30)).toEqual(classes.map((c) => c.wnid));
    expect(new Set(IMAGENET_WN31.map((e) => e.offset31)).size).toBe(1000);
    for (const e of IMAGENET_WN31) expect(wn.synsetBySenseKey(e.senseKey)?.offset, e.senseKey).toBe(e.offset31);
  });

  it("puts every class's label among its 3.1 synset's words (but jean, renamed jeans in 3.1)", () => {
    const odd = classes
      .filter((c, i) => !space.classSynsets[i]!.lemmas.some((l) => l.toLowerCase() === c.label.toLowerCase()))
      .map((c) => `${c.index} ${c.label} → ${space.classSynsets[c.index]!.lemmas.join(', ')}`);
    expect(odd).toEqual(['608 jean → jeans, blue jeans, denim']);
  });

  it('maps known classes exactly', () => {
    const golden = space.classSynsets[207]!;
    expect(labelOf(207)).toBe('golden retriever');
    expect(golden.lemmas).toContain('golden retriever');
    expect(wn.synsetsFor('golden retriever')).toEqual([golden]);
    // Two classes labelled "crane": the bird and the machine.
    expect([labelOf(134), labelOf(517)]).toEqual(['crane', 'crane']);
    const bird = space.classSynsets[134]!;
    const machine = space.classSynsets[517]!;
    expect(bird).not.toBe(machine);
    expect(bird.gloss).toMatch(/wading bird/);
    expect(machine.gloss).toMatch(/lifts and moves heavy objects/);
    expect(wn.synsetsFor('crane')).toEqual(expect.arrayContaining([bird, machine]));
  });

  it('refuses a class list it was not built for', () => {
    const swapped = [...classes];
    [swapped[0], swapped[1]] = [swapped[1]!, swapped[0]!];
    expect(() => ConceptSpace.build(wn, swapped)).toThrow(/class 0 is n01443537/);
    expect(() => ConceptSpace.build(wn, classes.slice(0, 10))).toThrow(/1000 ImageNet classes/);
  });
});

describe('classes under a word', () => {
  it('"dog" covers exactly the 118 domestic dog breeds (classes 151–268)', () => {
    const dog = first('dog');
    expect(dog.fallback).toBe(false);
    expect(dog.concepts[0]!.lemmas).toContain('domestic dog');
    expect(dog.classes).toEqual(range(151, 268));
    // Not the wild dogs (wolves, dingo, dhole, foxes: 269–280, under canine) nor the hotdog.
    expect(dog.classes).not.toContain(classIndex('dingo'));
    expect(dog.classes).not.toContain(classIndex('hotdog'));
    expect(space.classesUnder(first('canine').concepts[0]!)).toEqual([...range(151, 280)]);
  });

  it('"cat" (its first sense) covers the domestic cats and wildcats, not the big cats', () => {
    const cat = first('cat');
    expect(cat.classes.map(labelOf)).toEqual(['tabby', 'tiger cat', 'Persian cat', 'Siamese cat', 'Egyptian cat', 'cougar', 'lynx']);
    const bigCats = ['leopard', 'snow leopard', 'jaguar', 'lion', 'tiger', 'cheetah'].map(classIndex);
    for (const b of bigCats) expect(cat.classes).not.toContain(b);
    // WordNet's 7th, untagged sense of "cat" is "big cat": a separate candidate.
    const big = space.coverage('cat').find((c) => c.sense.synset.lemmas.includes('big cat'))!;
    expect(big.sense.sense).toBe(7);
    expect(big.sense.tagCount).toBe(0);
    expect(big.classes).toEqual(bigCats);
  });

  it('"vehicle" covers cars and boats', () => {
    const vehicle = first('vehicle');
    for (const l of ['sports car', 'cab', 'convertible', 'ambulance', 'canoe', 'speedboat', 'lifeboat', 'container ship']) {
      expect(vehicle.classes, l).toContain(classIndex(l));
    }
    expect(vehicle.classes).not.toContain(classIndex('golden retriever'));
  });

  it('"fruit" covers orange and lemon', () => {
    const fruit = first('fruit');
    expect(fruit.classes).toEqual(expect.arrayContaining([classIndex('orange'), classIndex('lemon'), classIndex('banana')]));
  });

  it('"mice" is mouse: the rodent (by fallback) and the computer mouse', () => {
    const [rodent, ...rest] = space.coverage('mice');
    expect(rodent!.sense.lemma).toBe('mouse');
    expect(rodent!.fallback).toBe(true);
    expect(rodent!.concepts.map((c) => c.lemmas[0])).toEqual(['rodent']);
    expect(rodent!.classes).toContain(classIndex('hamster'));
    const computer = rest.find((c) => c.sense.synset.lemmas.includes('computer mouse'))!;
    expect(computer.classes).toEqual([classIndex('mouse')]);
    expect(computer.fallback).toBe(false);
  });

  it('"puppy" falls back to dog, one level up', () => {
    const puppy = first('puppy');
    expect(puppy.fallback).toBe(true);
    expect(puppy.levels).toBe(1);
    expect(puppy.concepts).toEqual([first('dog').concepts[0]]);
    expect(puppy.classes).toEqual(range(151, 268));
  });

  it('a multi-word lemma covers its class', () => {
    expect(first('golden retriever').classes).toEqual([207]);
    expect(first('polar bear').classes).toEqual([classIndex('ice bear')]);
  });

  it('a nonsense word covers nothing', () => {
    expect(space.coverage('qwxz')).toEqual([]);
  });

  it('never uses or climbs through generic synsets', () => {
    for (const { senseKey } of GENERIC_CONCEPTS) {
      const s = wn.synsetBySenseKey(senseKey)!;
      expect(space.isGeneric(s)).toBe(true);
    }
    expect(space.coverage('entity')).toEqual([]);
    expect(space.coverage('organism')).toEqual([]);
    // A bacterium is an organism (generic) and nothing nearer covers classes.
    expect(space.coverage('bacterium')).toEqual([]);
    for (const word of ['object', 'thing', 'artifact', 'animal', 'device']) {
      for (const c of space.coverage(word)) for (const s of c.concepts) expect(space.isGeneric(s)).toBe(false);
    }
    expect(first('animal').classes).toHaveLength(398);
  });

  it('caps fallbacks with maxLevels', () => {
    const all = space.coverage('dog');
    const capped = space.coverage('dog', { maxLevels: 2 });
    expect(capped.length).toBeLessThan(all.length);
    for (const c of capped) expect(c.levels).toBeLessThanOrEqual(2);
    expect(capped[0]).toEqual(all[0]);
  });
});

describe('phrases', () => {
  it('matches multi-word lemmas greedily, longest first', () => {
    const tokens = 'a golden retriever and polar bears eating ice cream by a fire engine'.split(' ');
    const m = space.phraseMatches(tokens);
    expect(m.filter((x) => x.end - x.start > 1).map((x) => [x.text, x.lemma])).toEqual([
      ['golden retriever', 'golden retriever'],
      ['polar bears', 'polar bear'],
      ['ice cream', 'ice cream'],
      ['fire engine', 'fire engine'],
    ]);
    // Every token is covered once, in order.
    expect(m.flatMap((x) => range(x.start, x.end - 1))).toEqual(range(0, tokens.length - 1));
    expect(m.find((x) => x.text === 'and')!.lemma).toBeNull();
    // "german shepherd dog" is one lemma: longer than "german shepherd" + "dog".
    expect(space.phraseMatches(['german', 'shepherd', 'dog'])).toEqual([{ start: 0, end: 3, text: 'german shepherd dog', lemma: 'german shepherd dog' }]);
    expect(space.phraseMatches(['qwxz', 'dogs'])).toEqual([
      { start: 0, end: 1, text: 'qwxz', lemma: null },
      { start: 1, end: 2, text: 'dogs', lemma: 'dog' },
    ]);
    expect(space.phraseMatches([])).toEqual([]);
  });
});

describe('class ancestors', () => {
  it('rolls golden retriever up to retriever, sporting dog, dog, …, animal, without generic synsets', () => {
    const up = space.classAncestors(207);
    const at = (name: string) => up.find((a) => a.synset.lemmas[0] === name);
    expect(up.slice(0, 4).map((a) => [a.synset.lemmas[0], a.depth, a.classCount])).toEqual([
      ['retriever', 1, 5],
      ['sporting dog', 2, 17],
      ['hunting dog', 3, 63],
      ['dog', 4, 118],
    ]);
    expect(at('canine')?.depth).toBe(5);
    expect(at('animal')?.classCount).toBe(398);
    expect(up.some((a) => space.isGeneric(a.synset))).toBe(false);
    expect(at('organism')).toBeUndefined();
    expect(() => space.classAncestors(1000)).toThrow(RangeError);
  });
});

describe('CIFAR-10 class names', () => {
  // What each name covers through its most frequent sense (the zero-shot CIFAR eval reads these).
  const expected: Record<string, { classes: number; fallback?: string }> = {
    airplane: { classes: 1 }, // airliner only: warplane is a "military plane", not an airplane
    automobile: { classes: 10 },
    bird: { classes: 59 },
    cat: { classes: 7 },
    deer: { classes: 9, fallback: 'ruminant' }, // no deer class in ImageNet-1k
    dog: { classes: 118 },
    frog: { classes: 3 },
    horse: { classes: 1 }, // sorrel
    ship: { classes: 6 },
    truck: { classes: 8 },
  };

  it.each(Object.entries(expected))('%s', (word, want) => {
    const c = first(word);
    console.log(
      `${word.padEnd(10)} ${String(c.classes.length).padStart(3)} classes` +
        (c.fallback ? ` (fallback +${c.levels}: ${c.concepts.map((s) => s.lemmas[0]).join(', ')})` : '') +
        `: ${c.classes.map(labelOf).join(', ')}`,
    );
    expect(c.classes.length).toBe(want.classes);
    expect(c.fallback ? c.concepts.map((s) => s.lemmas[0]).join() : undefined).toBe(want.fallback);
  });
});
