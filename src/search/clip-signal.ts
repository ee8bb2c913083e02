import { isVisorError } from '../errors.js';
import type { ClipModel } from '../models/clip/clip-model.js';
import type { LanceStore } from '../store/lance-store.js';
import type { MatchReason, TextSignal } from './engine.js';

/** Items with no vector in the space score this, below the floor: no evidence either way. */
const MISSING = -2;
const FLOOR = -1.5;

/**
 * Text through a vision–language model's text tower (CLIP), scored against the image
 * embeddings of one of the index's spaces: the cosine of the words' embedding with each image.
 * The model's text tower loads on the first text query.
 */
export class ClipTextSignal implements TextSignal {
  readonly name = 'clip' as const;
  /** Scores per query text, for explain(): negative terms are scored after the positive ones. */
  private readonly recent = new Map<string, Float32Array>();

  constructor(
    private readonly store: LanceStore,
    readonly space: string,
    private readonly model: () => Promise<ClipModel>,
  ) {}

  async score(words: string[], ids: readonly string[]): Promise<{ scores: Float32Array; note?: string; floor?: number } | null> {
    const text = words.join(' ');
    let model: ClipModel;
    try {
      model = await this.model();
    } catch (e) {
      // An image-only model (no text tower or tokenizer) cannot take part in text queries.
      if (isVisorError(e) && /text tower|tokenizer/.test(e.message)) return null;
      throw e;
    }
    const query = await model.encodeText([text]);
    const r = await this.store.scoreSpace(this.space, query);
    let scores = r.scores;
    if (r.ids !== ids) {
      // Another snapshot of the table than the caller's: align by id.
      const rowOf = new Map(r.ids.map((id, i) => [id, i]));
      scores = Float32Array.from(ids, (id) => {
        const row = rowOf.get(id);
        return row === undefined ? NaN : r.scores[row]!;
      });
    }
    scores = scores.map((x) => (Number.isNaN(x) ? MISSING : x));
    if (this.recent.size > 32) this.recent.clear();
    this.recent.set(text, scores);
    const missing = scores.reduce((a, x) => a + (x === MISSING ? 1 : 0), 0);
    return { scores, floor: FLOOR, note: missing ? `${missing} images are not in the ${this.space} space yet: run 'visor index' again` : undefined };
  }

  async explain(words: string[], row: number): Promise<MatchReason['clip']> {
    const s = this.recent.get(words.join(' '))?.[row];
    return s === undefined || s === MISSING ? undefined : s;
  }
}
