import { loadWordNet, type WordNet } from '../../src/concepts/wordnet.js';

/**
 * Which Flickr8k captions mention a person or a dog: the ground truth the detector's "person"
 * and "dog" tags are scored against. The words come from WordNet (the hyponyms of person.n.01
 * and dog.n.01), filtered so that caption words used in another sense do not count.
 */
export type CaptionClass = 'person' | 'dog';

/** Words for groups of people: "a crowd" is not one person. */
const GROUPS = new Set(['people', 'crowd', 'family', 'team', 'couple', 'audience', 'spectators', 'onlookers']);

/**
 * Words that name people or dogs in captions but that the WordNet rule misses: groups of
 * people (a synset of their own, not a kind of person), "climber" (WordNet lists the plant
 * first) and dog words whose first sense is something else ("a black lab").
 */
const EXTRA: Record<CaptionClass, readonly string[]> = {
  person: [...GROUPS, 'climber'],
  dog: ['lab', 'chihuahua'],
};

/**
 * Words the rule admits that captions use otherwise: nouns for people that are mostly colour
 * or nationality adjectives in captions ("a white dog", "an Asian man" already names the man),
 * "shepherd" and "bernard" (the dogs, when not caught as "german shepherd", "st bernard"),
 * "boxer" (the dog or the shorts as often as the fighter), and things WordNet also names people
 * by ("stroller", "bleachers", "black and tan").
 */
const EXCLUDED: Record<CaptionClass, readonly string[]> = {
  person: [
    'black and tan',
    'bleachers',
    'dive',
    'tiger',
    'german',
    'disney',
    'mickey',
    'white',
    'grey',
    'gray',
    'black',
    'blonde',
    'blond',
    'brunette',
    'shepherd',
    'bernard',
    'boxer',
    'boxers',
    'stroller',
    'strollers',
    'coaster',
    'hood',
    'crane',
    'controller',
    'pacifier',
    'squirt',
    'squirts',
    'tutu',
    'mohawk',
    'stand in',
    'walk in',
    'walk on',
    'high up',
    'number one',
    'whales',
    'heron',
    'wheeler',
    'trailer',
    'picket',
    'washer',
    'lodge',
    'banks',
    'waters',
    'fields',
    'monitors',
    'punching bag',
    'tackle',
    'tackles',
    'forward',
    'forwards',
    'pop',
    'lasso',
    'setter',
    'rover',
    'cub',
    'loader',
    'tuner',
    'polo',
    'quad',
    'marks',
    'super',
    'dear',
    'lush',
    'maroon',
    'ritz',
    'modern',
    'steady',
    'steadies',
  ],
  dog: ['toy', 'toys', 'boxer', 'boxers', 'cardigan'],
};

const MAX_WORDS = 3;
const NUMBERS: Record<string, number> = { a: 1, an: 1, one: 1, two: 2, three: 3, four: 4, five: 5, six: 6, seven: 7, eight: 8, nine: 9, ten: 10 };
/** Words that may stand between a number and what it counts: "two young boys", "three small white dogs". */
const MAX_BETWEEN = 2;

/** A mention of a class in a caption, with the number it was given, if any ("two dogs" → 2, "a man" → 1). */
export interface Mention {
  cls: CaptionClass;
  phrase: string;
  count?: number;
}

export class CaptionClasses {
  private readonly cache = new Map<string, CaptionClass | null>();
  private readonly roots: Record<CaptionClass, Set<number>>;

  private constructor(private readonly wn: WordNet) {
    const closure = (key: string) => {
      const s = wn.synsetBySenseKey(key);
      if (!s) throw new Error(`WordNet has no ${key}`);
      return new Set([s.offset, ...wn.hyponymClosure(s).map((h) => h.offset)]);
    };
    this.roots = { person: closure('person%1:03:00::'), dog: closure('dog%1:05:00::') };
  }

  static async load(): Promise<CaptionClasses> {
    return new CaptionClasses(await loadWordNet());
  }

  /**
   * The class a word or phrase names: its most frequent noun sense (of any base form: "men" →
   * "man") is a person or a dog, and, for a single word, it is used as a noun at least as often
   * as as a verb or an adjective ("white", "have", "dry" are people in some sense of WordNet).
   * A sense nobody tagged counts only when it is the word's only sense ("skateboarder", not
   * "miami").
   */
  classOf(phrase: string): CaptionClass | null {
    const hit = this.cache.get(phrase);
    if (hit !== undefined) return hit;
    let found: CaptionClass | null = null;
    for (const cls of ['dog', 'person'] as const) {
      if (EXCLUDED[cls].includes(phrase)) continue;
      if (EXTRA[cls].includes(phrase) || this.names(phrase, cls)) {
        found = cls;
        break;
      }
    }
    this.cache.set(phrase, found);
    return found;
  }

  private names(phrase: string, cls: CaptionClass): boolean {
    for (const base of this.wn.baseForms(phrase)) {
      const senses = this.wn.senses(base).filter((s) => s.lemma === base);
      const first = senses[0];
      if (!first || !this.roots[cls].has(first.synset.offset)) continue;
      if (first.tagCount === 0 && senses.length > 1) continue;
      if (!phrase.includes(' ')) {
        const u = this.wn.usage(phrase);
        if (u.verb > u.noun || u.adj > u.noun) continue;
      }
      return true;
    }
    return false;
  }

  /**
   * The classes a caption mentions, with the words that named them. Longest phrases first,
   * so "german shepherd" is a dog and not a person.
   */
  mentions(caption: string): Map<CaptionClass, string[]> {
    const out = new Map<CaptionClass, string[]>();
    for (const m of this.mentionList(caption)) out.set(m.cls, [...(out.get(m.cls) ?? []), m.phrase]);
    return out;
  }

  private isPlural(phrase: string): boolean {
    return !this.wn.baseForms(phrase).includes(phrase) || phrase === 'people';
  }

  /**
   * Every mention in order, with its number: a number word up to two words before the phrase,
   * with no other class word between ("a man and two dogs": man 1, dogs 2).
   */
  mentionList(caption: string): Mention[] {
    const words = caption.toLowerCase().match(/[a-z]+(?:-[a-z]+)*/g) ?? [];
    const out: Mention[] = [];
    let lastEnd = 0;
    for (let i = 0; i < words.length;) {
      let step = 1;
      for (let n = Math.min(MAX_WORDS, words.length - i); n >= 1; n--) {
        const phrase = words.slice(i, i + n).join(' ');
        const cls = this.classOf(phrase);
        if (!cls) continue;
        let count: number | undefined;
        for (let j = i - 1; j >= Math.max(lastEnd, i - 1 - MAX_BETWEEN) && !GROUPS.has(phrase); j--) {
          const v = NUMBERS[words[j]!];
          if (v !== undefined) {
            // "a few dogs", "a lot of people": an article counts one of a singular only.
            if (v > 1 || !this.isPlural(phrase)) count = v;
            break;
          }
        }
        out.push({ cls, phrase, ...(count !== undefined ? { count } : {}) });
        step = n;
        lastEnd = i + n;
        break;
      }
      i += step;
    }
    return out;
  }
}

/**
 * The number of people (dogs) an image's captions agree on: each caption whose every mention
 * of the class carries a number gives their sum ("a brown dog and two black dogs" → 3); the
 * image's count is the value most captions give, when at least two give it and no other value
 * is as common. Undefined when the captions do not say.
 */
export function statedCount(captions: readonly string[], cls: CaptionClass, classes: CaptionClasses): number | undefined {
  const votes = new Map<number, number>();
  for (const c of captions) {
    const ms = classes.mentionList(c).filter((m) => m.cls === cls);
    if (ms.length === 0 || ms.some((m) => m.count === undefined)) continue;
    const n = ms.reduce((a, m) => a + m.count!, 0);
    votes.set(n, (votes.get(n) ?? 0) + 1);
  }
  const ranked = [...votes].sort((a, b) => b[1] - a[1]);
  const [top, second] = ranked;
  if (!top || top[1] < 2 || (second && second[1] === top[1])) return undefined;
  return top[0];
}
