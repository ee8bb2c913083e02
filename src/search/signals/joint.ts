import type { JointModel } from '../../models/joint-model.js';
import { words as splitWords } from '../../text/words.js';
import type { WordScorer } from './text.js';
import { jointImageMatrix } from '../joint-space.js';

/**
 * How much the joint signal counts, by query length (multiplying the user's weight for it).
 * The model learnt from captions (about 11 words): a sentence is what it reads best, and the
 * concept space reads only its nouns, so for a sentence it leads — under reciprocal-rank fusion
 * a leader needs a much larger weight to keep its order, as 1/(60 + rank) hardly separates
 * neighbouring ranks. A lone word is the concept space's ground (WordNet over the image model's
 * own classes) and far from the model's training text, so there it only breaks ties.
 * Chosen on Flickr8k dev (sentences) and CIFAR-10 class names (single words); docs/joint.md.
 */
export const JOINT_QUERY_WEIGHT = { word: 0.1, pair: 1, sentence: 20 };

/**
 * The trained joint text–image model as a text signal of the search engine: the query words,
 * read as one sentence, are scored against every stored image by cosine in the joint space,
 * and fused with the concept and keyword signals like any other.
 */
export class JointTextSignal implements WordScorer {
  readonly name = 'joint' as const;
  /** Projected images, kept while the store hands out the same id list (it changes on writes). */
  private images: { model: JointModel; ids: readonly string[]; matrix: Float32Array; bias: Float32Array; rowOf: Map<string, number> } | null = null;
  /** Recent scores by sentence, for explain (the engine scores negative terms in between). */
  private recent = new Map<string, Float32Array>();

  constructor(
    private readonly store: Parameters<typeof jointImageMatrix>[0],
    private readonly model: () => Promise<JointModel>,
  ) {}

  private async projected(model: JointModel) {
    const { ids } = await this.store.vectors();
    if (this.images?.model !== model || this.images.ids !== ids) {
      const m = await jointImageMatrix(this.store, model);
      this.images = { model, ids: m.ids, matrix: m.matrix, bias: m.bias, rowOf: new Map(m.ids.map((id, i) => [id, i])) };
    }
    return this.images;
  }

  async score(words: string[], ids: readonly string[]): Promise<{ scores: Float32Array; note?: string; weight: number } | null> {
    const model = await this.model();
    const sentence = words.join(' ');
    // A sentence of words the model never saw carries no evidence; the concept space may still know them.
    if (!model.knows(sentence)) return null;
    const im = await this.projected(model);
    const q = model.encodeText([sentence]);
    const D = model.dimension;
    const scores = new Float32Array(ids.length);
    ids.forEach((id, i) => {
      const r = im.rowOf.get(id);
      if (r === undefined) return void (scores[i] = -1);
      let s = im.bias[r]!;
      for (let j = 0; j < D; j++) s += q[j]! * im.matrix[r * D + j]!;
      scores[i] = s;
    });
    this.recent.delete(sentence);
    this.recent.set(sentence, scores);
    if (this.recent.size > 8) this.recent.delete(this.recent.keys().next().value!);
    const length = splitWords(sentence).length;
    const weight = length <= 1 ? JOINT_QUERY_WEIGHT.word : length === 2 ? JOINT_QUERY_WEIGHT.pair : JOINT_QUERY_WEIGHT.sentence;
    return { scores, weight };
  }

  async explain(words: string[], row: number): Promise<number | undefined> {
    return this.recent.get(words.join(' '))?.[row];
  }
}
