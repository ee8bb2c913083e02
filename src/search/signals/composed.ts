import { normalise } from '../../core/vector.js';
import { VisorError } from '../../errors.js';
import type { QueryContext, Signal, SignalOutcome } from '../signal.js';
import { composedScores, type ComposedScores, type ConceptReader } from './composed-scores.js';

/** Embeds words into the main image features' space (a vision–language main model's text tower). */
export type MainTextEncoder = (text: string) => Promise<Float32Array>;

export interface ComposedSignalDeps {
  /** The concept reading of words, for zero-shot composition over class probabilities. */
  concepts?: () => Promise<ConceptReader | undefined>;
  /** When the main model has a text tower: zero-shot composition is vector arithmetic in its space. */
  mainText?: () => Promise<MainTextEncoder | undefined>;
}

/**
 * "This image, but …": the reference (query images and liked items) changed as the words say,
 * one score per item. Zero-shot through the main model's text tower or the concept space, or
 * through a trained composition model (docs/compose.md).
 */
export class ComposedSignal implements Signal {
  readonly name = 'composed';

  constructor(private readonly deps: ComposedSignalDeps = {}) {}

  async score(ctx: QueryContext): Promise<SignalOutcome | null> {
    const reference = ctx.encoded.toward;
    if (!ctx.composeText || !reference) return null;
    const spec = ctx.query.compose!;
    const text = ctx.composeText.positive.join(' ');
    const encodeText = spec.model === undefined && ctx.encoded.space === undefined ? await this.deps.mainText?.() : undefined;
    const c = encodeText
      ? await towerScores(ctx, reference, text, spec.weight ?? 1, encodeText)
      : await composedScores(ctx.store, reference, text, spec, await this.deps.concepts?.());
    const note = c.ignored.length ? `${c.method}; not used: ${c.ignored.join(', ')}` : c.method;
    return {
      contributions: [{ name: 'composed', scores: c.scores, weight: ctx.weights.composed!, polarity: 1, depth: ctx.ids.length }],
      report: { name: 'composed', understood: c.used.length > 0, note },
    };
  }

  explain(_ctx: QueryContext, row: number, outcome: SignalOutcome): number | undefined {
    return outcome.contributions[0]?.scores[row];
  }
}

/** normalise(reference + w · text): the reference moved towards the words in the model's joint space. */
async function towerScores(ctx: QueryContext, reference: Float32Array, text: string, weight: number, encodeText: MainTextEncoder): Promise<ComposedScores> {
  if (!Number.isFinite(weight) || weight < 0) throw new VisorError('QUERY_INVALID', `the composition weight must be a finite number ≥ 0, got ${weight}`);
  const t = normalise(await encodeText(text));
  const q = normalise(reference.map((x, i) => x + weight * t[i]!));
  return { scores: (await ctx.store.scoreAll('vector', q, 1)).scores, used: [text], ignored: [], method: 'zero-shot' };
}
