import type { ConceptSpace } from '../../concepts/concept-space.js';
import type { ComposeModel } from '../../compose/model.js';
import { VisorError } from '../../errors.js';
import { MOBILENET_V2_INT8 } from '../../models/registry.js';
import type { ComposeSpec } from '../compose-spec.js';
import { FUNCTION_WORDS, words } from '../../text/words.js';
import type { SearchStore } from '../store.js';

/**
 * Composed queries inside a collection ("this image, but …"): the reference's embedding moved
 * by the text, one score per indexed item.
 *
 * Zero-shot (no trained model): Visor's index has no text–image joint space of its own, but
 * every item carries two embeddings from the image model: its visual features f (unit length)
 * and its ImageNet class probabilities p, which the concept space (WordNet) ties to words. We
 * treat [f ; p] as the joint space: an image is [f ; p], a text is [0 ; t] with t spread evenly
 * over the classes each of its nouns covers, and the composed query is [f_ref ; 0] + w·[0 ; t].
 * An item's score is then cos(f_ref, f_x) + w·⟨t, p_x⟩: how much it looks like the reference
 * plus how much of its probability mass falls on what the text names.
 *
 * Trained: a composition model (`visor-lab train compose --encoder mobilenet-pooled`) maps the
 * reference's stored features and the text to a query in its own space; the gallery is the
 * index's stored features through the model's image branch, so no image is read again.
 */
export type { ComposeSpec };

/** Reads words as concepts with class weights (the search engine's concept signal, `ConceptSignal.interpret`). */
export interface ConceptReader {
  /** Loads what a reading depends on (called before `interpret`). */
  prepare?(): Promise<void>;
  interpret(words: readonly string[]): { terms: Array<{ term: string; classes: Map<number, number> }>; unknown: string[]; occurrences: number[] };
}

export interface ComposedScores {
  scores: Float32Array;
  /** Words that moved the query (zero-shot: nouns with a visual concept). */
  used: string[];
  /** Words that did not (zero-shot: no visual concept the image model knows). */
  ignored: string[];
  method: 'zero-shot' | 'trained';
}

// A noun sense that needs more than this many hops up WordNet to reach an ImageNet class says
// little about what is in a picture ("red" as a colour name lands on "person" five levels up).
const MAX_CONCEPT_LEVELS = 1;
const STOP = new Set(['a', 'an', 'the', 'with', 'without', 'and', 'or', 'of', 'in', 'on', 'at', 'to', 'more', 'less', 'but', 'some', 'make', 'it']);

let space: Promise<ConceptSpace> | null = null;

/** The concept space of the index's image model (MobileNetV2's ImageNet classes), loaded once. */
function conceptSpace(): Promise<ConceptSpace> {
  space ??= import('../../concepts/concept-space.js').then(({ loadConceptSpace, IMAGENET_WN31 }) =>
    loadConceptSpace(IMAGENET_WN31.map((e) => ({ wnid: e.wnid30 }))),
  );
  space.catch(() => (space = null));
  return space;
}

/**
 * The text's vector in class-probability space: for each noun (or multi-word noun) with a
 * visual concept, its most frequent such sense's classes share 1/terms, so ⟨t, p⟩ is the mean
 * over the nouns of the probability mass an image puts on each.
 */
export async function conceptTextVector(
  text: string,
  classes: number,
  reader?: ConceptReader,
): Promise<{ vector: Float32Array; used: string[]; ignored: string[] }> {
  if (reader) {
    // The same reading as text search (senses weighted by frequency, fallbacks): a class's weight
    // is the share of the word's senses that cover it, so ⟨t, p⟩ stays a probability mass.
    await reader.prepare?.();
    const { terms, unknown, occurrences } = reader.interpret([text]);
    const vector = new Float32Array(classes);
    // A noun written twice counts twice, as written (the reader reads it once).
    for (const j of occurrences) for (const [c, w] of terms[j]!.classes) vector[c]! += w / occurrences.length;
    return { vector, used: terms.map((t) => t.term), ignored: unknown.filter((w) => !FUNCTION_WORDS.has(w)) };
  }
  const cs = await conceptSpace();
  const tokens = words(text).filter((t) => !STOP.has(t));
  const vector = new Float32Array(classes);
  const used: string[] = [];
  const ignored: string[] = [];
  const covered: Array<readonly number[]> = [];
  for (const m of cs.phraseMatches(tokens)) {
    const candidate = m.lemma ? cs.coverage(m.lemma, { maxLevels: MAX_CONCEPT_LEVELS })[0] : undefined;
    if (!candidate || candidate.classes.length === 0) {
      ignored.push(m.text);
      continue;
    }
    used.push(m.text);
    covered.push(candidate.classes);
  }
  for (const list of covered) for (const c of list) vector[c]! += 1 / covered.length;
  return { vector, used, ignored };
}

/** Composed scores for every indexed item, aligned with `store.vectors().ids`. */
export async function composedScores(
  store: SearchStore,
  reference: Float32Array,
  text: string,
  spec: Omit<ComposeSpec, 'text'> = {},
  reader?: ConceptReader,
): Promise<ComposedScores> {
  if (spec.model !== undefined) return trainedScores(store, reference, text, spec.model);
  const weight = spec.weight ?? 1;
  if (!Number.isFinite(weight) || weight < 0) throw new VisorError('QUERY_INVALID', `the composition weight must be a finite number ≥ 0, got ${weight}`);
  const { vector, used, ignored } = await conceptTextVector(text, store.manifest.numClasses, reader);
  const visual = (await store.scoreAll('vector', reference, 1)).scores;
  if (used.length === 0 || weight === 0) return { scores: visual, used, ignored, method: 'zero-shot' };
  const mass = (await store.scoreAll('probs', vector, 1)).scores;
  return { scores: visual.map((v, i) => v + weight * mass[i]!), used, ignored, method: 'zero-shot' };
}

const models = new Map<string, Promise<ComposeModel>>();

async function trainedScores(store: SearchStore, reference: Float32Array, text: string, model: string | ComposeModel): Promise<ComposedScores> {
  if (store.manifest.imageModel !== MOBILENET_V2_INT8.id) {
    throw new VisorError(
      'QUERY_INVALID',
      `trained composition models read MobileNetV2 features; this collection's main model is ${store.manifest.imageModel}: use zero-shot composition (no model)`,
    );
  }
  const { galleryFromIndexVectors } = await import('../../compose/query.js');
  let m: ComposeModel;
  if (typeof model === 'string') {
    const { ComposeModel } = await import('../../compose/model.js');
    let p = models.get(model);
    if (!p) {
      p = ComposeModel.load(model);
      models.set(model, p);
      p.catch(() => models.delete(model));
    }
    m = await p;
  } else m = model;
  if (m.config.image.kind !== 'mobilenet-pooled') {
    throw new VisorError(
      'QUERY_INVALID',
      `this composition model reads pixels (${m.config.image.kind} encoder); searching an index with it needs a model trained with --encoder mobilenet-pooled, which reads the features the index stores`,
    );
  }
  const { matrix } = await store.vectors();
  const gallery = await galleryFromIndexVectors(m, matrix);
  const phi = await m.embedImages(new (await import('../../compose/image-table.js')).ImageTable(1, [reference.length], reference), { unit: false });
  const q = await m.composeEmbeddings(phi, [text]);
  const dim = m.dim;
  const n = gallery.length / dim;
  const scores = new Float32Array(n);
  for (let r = 0; r < n; r++) {
    let s = 0;
    for (let j = 0; j < dim; j++) s += q[j]! * gallery[r * dim + j]!;
    scores[r] = s;
  }
  const unknown = m.unknownShare(text);
  return {
    scores,
    used: unknown < 1 ? [text] : [],
    ignored: unknown > 0 ? [`${Math.round(unknown * 100)}% of the text's words are new to the model`] : [],
    method: 'trained',
  };
}
