/**
 * Image → words: the concepts that describe an image, from its class probabilities. Each class's
 * probability also counts for its WordNet ancestors ("golden retriever" → retriever → dog →
 * animal), so an image the model is unsure between three breeds is still confidently a dog.
 */
import type { ConceptSpace } from './concept-space.js';
import type { Synset } from './wordnet.js';

export interface Tag {
  /** The concept's first WordNet word ('golden retriever', 'dog'). */
  label: string;
  /** WordNet 3.1 synset id. */
  synset: string;
  /** Probability mass of the classes under it (0…1). */
  confidence: number;
  /** 'class' for one of the model's classes, 'concept' for a rolled-up ancestor. */
  kind: 'class' | 'concept';
  /** Model classes the concept covers. */
  classCount: number;
}

export interface TagOptions {
  /** Tags to return (default 5). */
  k?: number;
  /** Leave out concepts below this mass (default 0.05). */
  minConfidence?: number;
  /**
   * A concept that is an ancestor or descendant of a tag already chosen, with nearly the same
   * mass (within this), adds nothing and is skipped (default 0.1): "canine 0.91" after "dog 0.90".
   */
  redundancy?: number;
  /** How much broad concepts are discounted when ranking (0: by mass alone; default 0.5). */
  breadthPenalty?: number;
}

/** Probabilities this small never add up to a tag; skipping them keeps tagging fast. */
const NEGLIGIBLE = 1e-4;

export class Tagger {
  private readonly ancestorsOfClass: Array<Array<{ synset: Synset; classCount: number }>>;
  private readonly ancestorSets = new Map<number, Set<number>>();
  /** Classes under each class's own synset: 1, or more where ImageNet nests classes. */
  private readonly classCounts: number[];

  constructor(readonly space: ConceptSpace) {
    this.ancestorsOfClass = space.classSynsets.map((_, c) => space.classAncestors(c).map((a) => ({ synset: a.synset, classCount: a.classCount })));
    this.classCounts = space.classSynsets.map((s) => space.classesUnder(s).length);
  }

  private ancestorsOf(s: Synset): Set<number> {
    let set = this.ancestorSets.get(s.offset);
    if (!set) {
      set = new Set(this.space.wordnet.ancestors(s).map((a) => a.synset.offset));
      this.ancestorSets.set(s.offset, set);
    }
    return set;
  }

  /** Whether one of the two synsets is the other or an ancestor of it. */
  related(a: Synset, b: Synset): boolean {
    return a.offset === b.offset || this.ancestorsOf(a).has(b.offset) || this.ancestorsOf(b).has(a.offset);
  }

  /** The `k` best tags for one image's class probabilities, best first. */
  tags(probs: Float32Array, opts: TagOptions = {}): Tag[] {
    const k = opts.k ?? 5;
    const minConfidence = opts.minConfidence ?? 0.05;
    const redundancy = opts.redundancy ?? 0.1;
    const penalty = opts.breadthPenalty ?? 0.5;
    const n = this.space.numClasses;
    const mass = new Map<number, { synset: Synset; mass: number; kind: Tag['kind']; classCount: number }>();
    const add = (synset: Synset, p: number, kind: Tag['kind'], classCount: number) => {
      const e = mass.get(synset.offset);
      if (e) e.mass += p;
      else mass.set(synset.offset, { synset, mass: p, kind, classCount });
    };
    for (let c = 0; c < n; c++) {
      const p = probs[c]!;
      if (p < NEGLIGIBLE) continue;
      add(this.space.classSynsets[c]!, p, 'class', this.classCounts[c]!);
      for (const a of this.ancestorsOfClass[c]!) add(a.synset, p, 'concept', a.classCount);
    }
    const logN = Math.log(n);
    const ranked = [...mass.values()]
      .filter((e) => e.mass >= minConfidence)
      .map((e) => ({ ...e, rank: e.mass * (1 - (penalty * Math.log(e.classCount)) / logN) }))
      .sort((a, b) => b.rank - a.rank);
    const chosen: typeof ranked = [];
    for (const e of ranked) {
      if (chosen.length >= k) break;
      if (chosen.some((c) => Math.abs(c.mass - e.mass) < redundancy && this.related(c.synset, e.synset))) continue;
      chosen.push(e);
    }
    return chosen.map((e) => ({
      label: e.synset.lemmas[0]!,
      synset: e.synset.id,
      confidence: Math.min(1, e.mass),
      kind: e.kind,
      classCount: e.classCount,
    }));
  }
}
