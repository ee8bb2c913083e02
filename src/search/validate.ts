import { VisorError } from '../errors.js';
import { parseQueryText, type ParsedText, type Query } from './query.js';

export interface ValidQuery {
  k: number;
  offset: number;
  /** Every known signal's weight: the query's, else the signal's default (1 unless it says). */
  weights: Record<string, number>;
  text: ParsedText;
  composeText: ParsedText | null;
}

/** The pipeline's first step: a query that cannot be answered is refused here, with why. */
export function validateQuery(query: Query, weightNames: readonly string[], defaults: Readonly<Record<string, number>> = {}): ValidQuery {
  const k = query.k ?? 10;
  const offset = query.offset ?? 0;
  if (!Number.isInteger(k) || k < 1) throw new VisorError('QUERY_INVALID', `k must be a positive integer, got ${k}`);
  if (!Number.isInteger(offset) || offset < 0) throw new VisorError('QUERY_INVALID', `offset must be a non-negative integer, got ${offset}`);
  const weights: Record<string, number> = Object.fromEntries(weightNames.map((name) => [name, defaults[name] ?? 1]));
  for (const [name, w] of Object.entries(query.weights ?? {})) {
    if (w === undefined) continue;
    if (!(name in weights))
      throw new VisorError('QUERY_INVALID', `no signal named ${JSON.stringify(name)} to weigh; this collection's are ${weightNames.join(', ')}`);
    if (!Number.isFinite(w) || w < 0) throw new VisorError('QUERY_INVALID', `the weight of ${name} must be a finite number ≥ 0, got ${w}`);
    weights[name] = w;
  }
  const text = parseQueryText(query.text ?? '');
  // A composed query's own words: positive ones change the reference, negative ones join the rest.
  const composeText = query.compose ? parseQueryText(query.compose.text) : null;
  if (composeText) {
    if (composeText.positive.length === 0)
      throw new VisorError('QUERY_INVALID', 'a composed query needs words saying how the results should differ from the image');
    if ((query.images ?? []).length + (query.like ?? []).length === 0) {
      throw new VisorError('QUERY_INVALID', 'a composed query needs a reference: an image or an item to find more like');
    }
    text.negative.push(...composeText.negative);
  }
  if (text.positive.length + (query.images ?? []).length + (query.like ?? []).length + (query.persons ?? []).length === 0 && query.face === undefined) {
    throw new VisorError('QUERY_INVALID', 'give something to search for: words, an image, an item to find more like, a person or a face');
  }
  return { k, offset, weights, text, composeText };
}
