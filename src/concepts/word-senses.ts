/**
 * Which concepts a query word stands for, with word vectors to help WordNet: a word WordNet
 * does not lead to a concept is matched to the concepts whose names are nearest ("hoodie ≈
 * sweatshirt 0.73"), and a word's senses are weighed by what the collection shows (a clothing
 * catalogue's "jumper" is a sweater, its "top" a garment) and by the other
 * words of the query (their mean vector's cosine with each sense's concept).
 */
import type { ConceptCandidate, PhraseMatch } from './concept-space.js';
import type { Synset } from './wordnet.js';
import type { VectorConcepts, VectorMatch } from './vector-concepts.js';

export interface WordSenseOptions {
  /** A word WordNet does not know is matched to concepts at least this similar. */
  floor: number;
  /** A word WordNet reads only through broader concepts also takes the concepts among them this similar ("jetliner": airplane → airliner). */
  altFloor: number;
  /**
   * A concept the collection shows at least `backing` times as often as an average one is taken
   * for a word WordNet does not know when it is at least this similar.
   */
  collectionFloor: number;
  backing: number;
  /** Exponent of the collection's prior on a sense's weight (0: the collection is not asked). */
  prior: number;
  /** How much the other query words choose the sense: weight × exp(context × cosine). */
  context: number;
  /** How much the word's own similarity to each sense's concept chooses it ("lorry": truck, not wagon). */
  self: number;
  /** Most concepts a word is matched to by similarity. */
  maxMatches: number;
}

/** Chosen on Flickr8k's dev split and the vocabulary list (docs/zero-shot.md). */
export const DEFAULT_WORD_SENSE: WordSenseOptions = {
  floor: 0.6,
  altFloor: 0.7,
  collectionFloor: 0.25,
  backing: 4,
  prior: 1,
  context: 2,
  self: 2,
  maxMatches: 3,
};

/** A prior ratio outside this range says no more: one concept is not a million times likelier than another. */
const MIN_RATIO = 0.05;
const MAX_RATIO = 20;
const FALLBACK_DECAY = 0.5;

export interface WordReading {
  /** The WordNet noun read, or the word itself when WordNet does not know it. */
  lemma: string;
  /** The main concept's name. */
  concept: string;
  /** Class index → weight, summing to 1. */
  classes: Map<number, number>;
  /** "hoodie ≈ sweatshirt 0.73", when the main concept was found by similarity. */
  match?: string;
}

interface Reading {
  concepts: readonly Synset[];
  classes: readonly number[];
  base: number;
  match?: VectorMatch;
  strong?: boolean;
}

/**
 * A phrase's concepts and class weights from its WordNet candidates (`cands`, possibly none)
 * and word similarity; null when neither leads anywhere.
 */
export function senseWeights(
  phrase: PhraseMatch,
  cands: readonly ConceptCandidate[],
  ctx: { words: VectorConcepts; context: readonly string[]; prior?: Float32Array; options: WordSenseOptions },
): WordReading | null {
  const { words, options: o, prior } = ctx;
  const space = words.space;
  const ratio = (classes: readonly number[]): number => {
    if (!prior || classes.length === 0) return 1;
    let mass = 0;
    for (const c of classes) mass += prior[c] ?? 0;
    return Math.min(MAX_RATIO, Math.max(MIN_RATIO, (mass * space.numClasses) / classes.length));
  };
  const readings: Reading[] = cands.map((c) => ({ concepts: c.concepts, classes: c.classes, base: (c.sense.tagCount + 1) * FALLBACK_DECAY ** c.levels }));
  // WordNet's own reading stands unless it knows the word only through broader concepts; then
  // similarity may narrow it. The collection's prior may stand in for a word only where WordNet
  // leads to no concept at all: a word it reads as something the classifier knows is never moved
  // elsewhere by what the collection shows. On CIFAR-10, whose 32-pixel images the classifier
  // often reads as a squirrel or a barn spider, such weak matches took "reindeer" (a deer: a
  // ruminant) to squirrels, as they had taken "deer" and "puppy" before.
  if (cands.every((c) => c.fallback)) {
    const known = cands.length > 0;
    // A match counts as much as an average WordNet reading of the word, times its similarity.
    const each = known ? readings.reduce((a, r) => a + r.base, 0) / readings.length : 1;
    const taken = new Set(cands.flatMap((c) => c.concepts.map((s) => s.offset)));
    // What WordNet reads broadly, similarity may narrow ("jetliner": airplane → airliner), never leave.
    const within = new Set(cands.flatMap((c) => c.classes));
    const found: Reading[] = [];
    for (const m of words.nearest(phrase.text, Infinity, Math.min(o.collectionFloor, known ? o.altFloor : o.floor))) {
      if (taken.has(m.synset.offset)) continue;
      const classes = space.classesUnder(m.synset);
      const strong = known ? m.similarity >= o.altFloor && classes.every((c) => within.has(c)) : m.similarity >= o.floor;
      const backed = !known && prior !== undefined && o.prior > 0 && m.similarity >= o.collectionFloor && ratio(classes) >= o.backing;
      if (strong || backed) found.push({ concepts: [m.synset], classes, base: each * m.similarity, match: m, strong });
    }
    // Weaker matches the collection backs only stand in when no match is near enough.
    if (found.some((f) => f.strong)) found.splice(0, found.length, ...found.filter((f) => f.strong));
    found.sort((a, b) => b.base * ratio(b.classes) ** o.prior - a.base * ratio(a.classes) ** o.prior);
    readings.push(...found.slice(0, o.maxMatches));
  }
  if (readings.length === 0) return null;
  const context = o.context > 0 && ctx.context.length > 0 ? words.context(ctx.context) : undefined;
  const own = o.self > 0 && readings.length > 1 ? words.vectors.phrase(phrase.text) : undefined;
  const near = (r: Reading, v: Float32Array | undefined) => (v ? Math.max(...r.concepts.map((s) => words.affinity(s, v))) : 0);
  // A match's similarity is already in its base weight.
  const weights = readings.map((r) => r.base * ratio(r.classes) ** o.prior * Math.exp(o.context * near(r, context) + (r.match ? 0 : o.self * near(r, own))));
  const total = weights.reduce((a, b) => a + b, 0) || 1;
  const classes = new Map<number, number>();
  let main = 0;
  readings.forEach((r, i) => {
    if (weights[i]! > weights[main]!) main = i;
    const w = weights[i]! / total;
    for (const c of r.classes) classes.set(c, (classes.get(c) ?? 0) + w);
  });
  const top = readings[main]!;
  return {
    lemma: phrase.lemma ?? phrase.text,
    concept: top.concepts.map((s) => s.lemmas[0]).join(' / '),
    classes,
    ...(top.match ? { match: `${phrase.text} ≈ ${top.match.name} ${top.match.similarity.toFixed(2)}` } : {}),
  };
}
