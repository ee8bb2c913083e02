import { VisorError } from '../errors.js';
import type { SignalWeights } from '../search/query.js';
import type { GlobalOptions } from './run.js';

/** The options of `visor search`, shared by search-cmd.ts and domain-cmd.ts (which runs the domain stages). */
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
  exact?: boolean;
  excludeSelf?: boolean;
  weights?: string;
  fusion?: 'rrf' | 'score';
  textModel?: string;
  space?: string;
  /** Domain stages (one query image only); see domain-cmd.ts. */
  narrow?: boolean;
  localize?: boolean;
  rerank?: boolean;
}

/** "visual=1,keywords=0.5" → weights; unknown names are an error, not silently ignored. */
export function parseWeights(spec: string | undefined): Partial<SignalWeights> | undefined {
  if (!spec) return undefined;
  const known = ['visual', 'concepts', 'keywords', 'joint', 'clip', 'negative', 'composed'];
  const out: Partial<SignalWeights> = {};
  for (const part of spec.split(',')) {
    const [name, value] = part.split('=').map((x) => x.trim());
    const v = Number(value);
    if (!name || !known.includes(name) || !Number.isFinite(v) || v < 0) {
      throw new VisorError('QUERY_INVALID', `bad weight ${JSON.stringify(part)}: use name=value with names ${known.join(', ')}`);
    }
    out[name as keyof SignalWeights] = v;
  }
  return out;
}
