/**
 * The concept space's concepts by word similarity, built once per concept space from the
 * word vectors (converted into the models cache on first use).
 */
import type { ConceptSpace } from './concept-space.js';
import { VectorConcepts } from './vector-concepts.js';
import type { Synset } from './wordnet.js';
import { loadWordVectors } from '../models/word-vectors.js';

const built = new WeakMap<ConceptSpace, Promise<VectorConcepts>>();

/** Concepts under "abstraction" (attributes, acts, measures) are never what an image shows. */
export function abstractTest(space: ConceptSpace): (s: Synset) => boolean {
  const root = space.wordnet.synsetBySenseKey('abstraction%1:03:00::');
  return (s) => space.wordnet.ancestors(s).some((a) => a.synset.offset === root?.offset);
}

export function loadVectorConcepts(space: ConceptSpace): Promise<VectorConcepts> {
  let p = built.get(space);
  if (!p) {
    p = loadWordVectors().then((vectors) => new VectorConcepts(space, vectors, abstractTest(space)));
    built.set(space, p);
    p.catch(() => built.delete(space));
  }
  return p;
}
