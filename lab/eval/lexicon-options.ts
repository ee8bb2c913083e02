/**
 * The lab's options for how text search reads words (`--no-word-vectors`, `--senses`,
 * `--class-names`), as the zero-shot evaluations take them.
 */
import type { WordSenseOptions } from '../../src/concepts/word-senses.js';
import type { ConceptSignalOptions } from '../../src/search/signals/concepts.js';

/** "prior=1,context=2" → { prior: 1, context: 2 }. */
export function parseSenses(list: string | undefined): Partial<WordSenseOptions> | undefined {
  if (!list) return undefined;
  const out: Record<string, number> = {};
  for (const part of list.split(',')) {
    const [k, v] = part.split('=');
    const x = Number(v);
    if (!k || !Number.isFinite(x)) throw new Error(`--senses: ${JSON.stringify(part)} is not name=number`);
    out[k.trim()] = x;
  }
  return out as Partial<WordSenseOptions>;
}

export function lexiconOptions(o: { wordVectors?: boolean; senses?: string; classNames?: string }): {
  concepts: ConceptSignalOptions;
  classNames?: string[];
} {
  return {
    concepts: { wordVectors: o.wordVectors !== false, ...(o.senses ? { senses: parseSenses(o.senses) } : {}) },
    ...(o.classNames ? { classNames: o.classNames.split(',').map((n) => n.trim()) } : {}),
  };
}
