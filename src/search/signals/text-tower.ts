import { isVisorError } from '../../errors.js';
import type { SearchStore } from '../store.js';
import type { WordScorer } from './text.js';
import { alignedSpaceScores } from './visual.js';

/** Below any cosine: items missing from a further space (alignedSpaceScores) carry no evidence. */
const FLOOR = -1.5;

/** A text tower: words → a unit vector in its model's image space. */
export type TextTower = () => Promise<{ encodeText(texts: string[]): Promise<Float32Array> }>;

/**
 * Words through a vision–language model's text tower (CLIP), scored against the images of the
 * same model: the main image features when the collection's main model has a text tower, or a
 * further embedding space. The tower loads on the first text query.
 */
export class TextTowerScorer implements WordScorer {
  /** Scores per query text, for explain(): negative terms are scored after the positive ones. */
  private readonly recent = new Map<string, Float32Array>();

  constructor(
    private readonly store: Pick<SearchStore, 'scoreAll' | 'scoreSpace'>,
    /** The further space scored, or undefined for the main image features. */
    readonly space: string | undefined,
    private readonly tower: TextTower,
  ) {}

  async score(words: string[], ids: readonly string[]): Promise<{ scores: Float32Array; note?: string; floor?: number } | null> {
    const text = words.join(' ');
    let model: Awaited<ReturnType<TextTower>>;
    try {
      model = await this.tower();
    } catch (e) {
      // An image-only model (no text tower or tokenizer) cannot take part in text queries.
      if (isVisorError(e) && /text tower|tokenizer/.test(e.message)) return null;
      throw e;
    }
    const query = await model.encodeText([text]);
    const scores =
      this.space === undefined ? (await this.store.scoreAll('vector', query, 1)).scores : await alignedSpaceScores(this.store, ids, this.space, query);
    if (this.recent.size > 32) this.recent.clear();
    this.recent.set(text, scores);
    const missing = scores.reduce((a, x) => a + (x < FLOOR ? 1 : 0), 0);
    return { scores, floor: FLOOR, note: missing ? `${missing} images are not in the ${this.space} space yet: run 'visor index' again` : undefined };
  }

  async explain(words: string[], row: number): Promise<number | undefined> {
    const s = this.recent.get(words.join(' '))?.[row];
    return s === undefined || s < FLOOR ? undefined : s;
  }
}
