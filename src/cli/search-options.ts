import { VisorError } from '../errors.js';
import { DEFAULT_WEIGHTS, type SignalWeights } from '../search/query.js';
import type { GlobalOptions } from './run.js';

/** The options of `visor search`. */
export interface SearchCommandOptions extends GlobalOptions {
  image: string[];
  notImage: string[];
  like: string[];
  unlike: string[];
  moreLike: string[];
  lessLike: string[];
  text?: string;
  composeModel?: string;
  composeWeight?: number;
  k: number;
  offset: number;
  where?: string;
  colour?: string;
  person?: string[];
  face?: string;
  exact?: boolean;
  excludeSelf?: boolean;
  weights?: string;
  fusion?: 'rrf' | 'score';
  textModel?: string;
  space?: string;
  /** Optional stages (one query image only). */
  narrow?: boolean;
  localize?: boolean;
  rerank?: boolean;
}

/** "visual=1,keywords=0.5" → weights; the collection refuses names it has no signal for. */
export function parseWeights(spec: string | undefined): Partial<SignalWeights> | undefined {
  if (!spec) return undefined;
  const out: Partial<SignalWeights> = {};
  for (const part of spec.split(',')) {
    const [name, value] = part.split('=').map((x) => x.trim());
    const v = Number(value);
    if (!name || !/^[a-z][a-z0-9_-]*$/.test(name) || value === undefined || value === '' || !Number.isFinite(v) || v < 0) {
      throw new VisorError('QUERY_INVALID', `bad weight ${JSON.stringify(part)}: use name=value with names ${Object.keys(DEFAULT_WEIGHTS).join(', ')}`);
    }
    out[name] = v;
  }
  return out;
}
