/**
 * Everyday words people type into a shop or photo search, each with the concepts its reading
 * must reach (the classes it weighs most are under one of them) and must not (their classes
 * weigh under half as much). `shop`: read in a clothing and accessories catalogue (the collection prior of such a
 * catalogue), where the shop's sense is the right one; otherwise in a collection of photos of
 * everything (a flat prior).
 */
import type { ConceptSpace } from '../src/concepts/concept-space.js';
import type { ConceptSignal } from '../src/search/signals/concepts.js';

export interface VocabularyWord {
  word: string;
  reach: string[];
  not: string[];
  shop?: boolean;
}

const w = (word: string, reach: string[], not: string[] = [], shop = false): VocabularyWord => ({ word, reach, not, shop });

export const VOCABULARY: VocabularyWord[] = [
  // clothing
  w('hoodie', ['garment'], ['person']),
  w('sweatshirt', ['garment']),
  w('jumper', ['garment'], ['person'], true),
  w('jeans', ['garment']),
  w('t-shirt', ['garment']),
  w('dress', ['garment', 'clothing']),
  w('skirt', ['garment', 'clothing']),
  w('jacket', ['garment', 'clothing']),
  w('coat', ['garment', 'clothing'], ['animal']),
  w('suit', ['garment', 'clothing']),
  w('tie', ['garment', 'clothing']),
  w('top', ['garment', 'clothing'], ['location', 'geological formation'], true),
  w('bikini', ['garment', 'clothing']),
  w('swimsuit', ['garment', 'clothing']),
  w('pyjamas', ['garment', 'clothing']),
  w('cardigan', ['garment']),
  w('gown', ['garment', 'clothing']),
  w('leggings', ['garment', 'clothing'], ['person']),
  w('hat', ['headdress']),
  w('beanie', ['headdress', 'garment', 'clothing']),
  // shoes
  w('trainers', ['footwear'], ['person'], true),
  w('sneakers', ['footwear']),
  w('heels', ['footwear'], ['person'], true),
  w('boots', ['footwear']),
  w('sandals', ['footwear']),
  w('loafers', ['footwear'], ['person']),
  w('flip-flops', ['footwear']),
  // accessories
  w('handbag', ['bag'], [], true),
  w('purse', ['bag']),
  w('backpack', ['bag']),
  w('wallet', ['case']),
  w('watch', ['timepiece']),
  w('ring', ['jewelry'], ['shape'], true),
  w('necklace', ['jewelry']),
  w('sunglasses', ['sunglasses']),
  w('umbrella', ['umbrella']),
  // furniture
  w('sofa', ['furniture']),
  w('couch', ['furniture']),
  w('armchair', ['furniture']),
  w('table', ['furniture'], ['person']),
  w('desk', ['furniture']),
  w('wardrobe', ['furniture']),
  w('bookcase', ['furniture']),
  w('lamp', ['lamp']),
  // food
  w('pizza', ['pizza']),
  w('burger', ['sandwich']),
  w('hotdog', ['sandwich']),
  w('banana', ['banana']),
  w('strawberry', ['strawberry']),
  w('broccoli', ['broccoli']),
  w('espresso', ['espresso']),
  w('cupcake', ['baked goods', 'dessert']),
  // vehicles
  w('car', ['car']),
  w('automobile', ['car']),
  w('lorry', ['truck']),
  w('truck', ['truck']),
  w('motorbike', ['motorcycle', 'motor scooter'], ['person']),
  w('bike', ['bicycle', 'motorcycle']),
  w('scooter', ['motor scooter', 'wheeled vehicle']),
  w('aeroplane', ['airplane', 'aircraft']),
  w('jetliner', ['airplane', 'aircraft']),
  w('taxi', ['car']),
  w('suv', ['car', 'motor vehicle']),
  // animals
  w('dog', ['dog']),
  w('puppy', ['dog']),
  w('doggy', ['dog']),
  w('kitten', ['cat']),
  w('kitty', ['cat']),
  w('pony', ['horse', 'equine']),
  w('parrot', ['parrot']),
  w('goldfish', ['fish']),
  w('bunny', ['rabbit', 'leporid']),
  // places
  w('beach', ['shore']),
  w('seaside', ['shore', 'geological formation']),
  w('mountain', ['mountain', 'geological formation']),
  w('lake', ['lakeside', 'shore', 'geological formation']),
  w('bridge', ['bridge']),
  w('church', ['church', 'place of worship']),
  w('castle', ['castle', 'fortification']),
];

/** The classes under every non-generic noun synset named `name` ("footwear" names two). */
export function conceptClasses(space: ConceptSpace, name: string): Set<number> {
  const out = new Set(
    space.wordnet
      .synsetsFor(name)
      .filter((x) => !space.isGeneric(x))
      .flatMap((x) => space.classesUnder(x)),
  );
  if (out.size === 0) throw new Error(`no concept named ${name}`);
  return out;
}

export interface VocabularyResult {
  word: string;
  ok: boolean;
  read: string;
  why?: string;
}

/** Each word's reading by the signal for its collection (a shop's or a general one), checked. */
export async function checkVocabulary(
  space: ConceptSpace,
  signal: (shop: boolean) => Promise<{ signal: ConceptSignal; ids: readonly string[] }>,
  words: readonly VocabularyWord[] = VOCABULARY,
): Promise<VocabularyResult[]> {
  const out: VocabularyResult[] = [];
  for (const v of words) {
    const { signal: s, ids } = await signal(v.shop ?? false);
    // Scoring reads the collection (its prior) and then the words, as a search does.
    await s.score([v.word], ids);
    const term = s.interpret([v.word]).terms[0];
    if (!term) {
      out.push({ word: v.word, ok: false, read: '(nothing)' });
      continue;
    }
    // An image sure of class c scores the term's weight on c: the word reaches a concept when
    // the images it scores highest are the concept's, and not another when that one's images
    // score under half as much.
    const top = Math.max(...term.classes.values());
    const best = [...term.classes].filter(([, x]) => x >= top - 1e-9).map(([c]) => c);
    const reachClasses = new Set(v.reach.flatMap((n) => [...conceptClasses(space, n)]));
    const reached = best.every((c) => reachClasses.has(c));
    const highest = (name: string) =>
      Math.max(0, ...[...conceptClasses(space, name)].filter((c) => !reachClasses.has(c)).map((c) => term.classes.get(c) ?? 0)) / top;
    const wrong = v.not.map((n) => [n, highest(n)] as const).filter(([, m]) => m >= 0.5);
    const ok = reached && wrong.length === 0;
    out.push({
      word: v.word,
      ok,
      read: term.match ?? `${term.term} → ${term.concept}`,
      ...(ok ? {} : { why: !reached ? `best classes not under ${v.reach.join('/')}` : wrong.map(([n, m]) => `${n} ${m.toFixed(2)}`).join(', ') }),
    });
  }
  return out;
}
