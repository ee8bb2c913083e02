/**
 * The concept space's concepts by word similarity: every synset that covers ImageNet classes is
 * named by its lemmas, each lemma a GloVe vector (a phrase: the mean of its words), so that a
 * word WordNet does not lead to a concept ("hoodie", "sneaker", "smartphone") finds the
 * concepts whose names are nearest to it ("hoodie ≈ sweatshirt 0.73").
 */
import type { ConceptSpace } from './concept-space.js';
import type { Synset } from './wordnet.js';
import { dot, unit, type WordVectors } from '../models/word-vectors.js';
import { FUNCTION_WORDS } from '../text/words.js';

/**
 * A name of several words is their mean vector, which stays near each of them: "mud puppy" is
 * as near "puppy" as "pug" is. Such names count this much of their cosine.
 */
const PHRASE_DISCOUNT = 0.85;

/** A concept near a word: the synset, the lemma that was nearest, and their cosine. */
export interface VectorMatch {
  readonly synset: Synset;
  readonly name: string;
  readonly similarity: number;
}

/** Named concepts and their vectors, in one matrix (row = one lemma). */
export class VectorConcepts {
  private readonly rows: Array<{ synset: Synset; name: string; discount: number }> = [];
  private readonly matrix: Float32Array;
  private readonly bySynset = new Map<number, Float32Array>();

  constructor(
    readonly space: ConceptSpace,
    readonly vectors: WordVectors,
    /** Concepts never offered (abstract ones: what no image shows). */
    exclude: (s: Synset) => boolean = () => false,
  ) {
    const seen = new Set<number>();
    const vecs: Float32Array[] = [];
    const consider = (s: Synset, isClass: boolean) => {
      if (seen.has(s.offset)) return;
      seen.add(s.offset);
      // A class is what images show, whatever WordNet files it under.
      if (space.isGeneric(s) || (!isClass && exclude(s))) return;
      const mine: Float32Array[] = [];
      for (const lemma of s.lemmas) {
        // "staff of life", "bird of night": the function words say nothing of the thing.
        const words = lemma
          .toLowerCase()
          .replace(/'s\b/g, '')
          .split(/[\s_]+/)
          .filter((w) => w && !FUNCTION_WORDS.has(w));
        const v = vectors.phrase(words.join(' '));
        if (!v) continue;
        const whole = words.length === 1 && vectors.has(words[0]!);
        this.rows.push({ synset: s, name: lemma, discount: whole ? 1 : PHRASE_DISCOUNT });
        vecs.push(v);
        mine.push(v);
      }
      if (mine.length) this.bySynset.set(s.offset, mean(mine, vectors.dim));
    };
    for (let c = 0; c < space.numClasses; c++) {
      consider(space.classSynsets[c]!, true);
    }
    for (let c = 0; c < space.numClasses; c++) {
      for (const a of space.classAncestors(c)) consider(a.synset, false);
    }
    this.matrix = new Float32Array(vecs.length * vectors.dim);
    vecs.forEach((v, i) => this.matrix.set(v, i * vectors.dim));
  }

  /** A concept's vector (the mean of its named lemmas), or undefined when none is in GloVe. */
  conceptVector(s: Synset): Float32Array | undefined {
    return this.bySynset.get(s.offset);
  }

  /**
   * The `k` concepts nearest to a word or phrase, each once (at its nearest lemma), most similar
   * first, those under `floor` left out. Empty when GloVe does not know the word.
   */
  nearest(text: string, k: number, floor = -1): VectorMatch[] {
    const q = this.vectors.phrase(text.toLowerCase());
    if (!q) return [];
    const dim = this.vectors.dim;
    const best = new Map<number, VectorMatch>();
    for (let r = 0; r < this.rows.length; r++) {
      const row = this.rows[r]!;
      let s = 0;
      for (let d = 0, o = r * dim; d < dim; d++) s += q[d]! * this.matrix[o + d]!;
      s *= row.discount;
      if (s < floor) continue;
      const had = best.get(row.synset.offset);
      if (!had || s > had.similarity) best.set(row.synset.offset, { synset: row.synset, name: row.name, similarity: s });
    }
    return [...best.values()].sort((a, b) => b.similarity - a.similarity).slice(0, k);
  }

  /** The unit mean of the words' vectors (the context other query words give), or undefined. */
  context(words: readonly string[]): Float32Array | undefined {
    const vs = words.map((w) => this.vectors.vector(w)).filter((v): v is Float32Array => v !== undefined);
    return vs.length ? mean(vs, this.vectors.dim) : undefined;
  }

  /** Cosine of a concept with a context vector (0 when either is unknown). */
  affinity(s: Synset, context: Float32Array | undefined): number {
    const v = this.bySynset.get(s.offset);
    return v && context ? dot(v, context) : 0;
  }
}

function mean(vs: readonly Float32Array[], dim: number): Float32Array {
  const acc = new Float32Array(dim);
  for (const v of vs) for (let d = 0; d < dim; d++) acc[d]! += v[d]!;
  return unit(acc);
}
