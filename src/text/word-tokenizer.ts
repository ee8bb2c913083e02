/**
 * Word-level tokenizer learned from training captions: lower-case words and, optionally,
 * frequent word pairs (bigrams), so a bag-of-tokens encoder still sees some word order
 * ("red shirt" vs "red car"). Ids 0 and 1 are reserved for padding and unknown words.
 */
export const PAD = 0;
export const UNK = 1;
const RESERVED = ['<pad>', '<unk>'];

export interface WordTokenizerSpec {
  type: 'word';
  /** Tokens in id order, including the reserved ones. */
  vocab: string[];
  /** Whether adjacent word pairs ("a_b") are tokens too. */
  bigrams: boolean;
  /** Longest token sequence kept (longer captions are cut). */
  maxTokens: number;
}

/** Lower-case words: letters and digits, apostrophes inside words kept ("man's"). */
export function words(text: string): string[] {
  return text
    .toLowerCase()
    .normalize('NFKC')
    .replace(/[^\p{L}\p{N}']+/gu, ' ')
    .split(' ')
    .map((w) => w.replace(/^'+|'+$/g, ''))
    .filter((w) => w.length > 0);
}

function withBigrams(ws: string[]): string[] {
  const out = [...ws];
  for (let i = 0; i + 1 < ws.length; i++) out.push(`${ws[i]}_${ws[i + 1]}`);
  return out;
}

export class WordTokenizer {
  private readonly ids: Map<string, number>;

  constructor(readonly spec: WordTokenizerSpec) {
    this.ids = new Map(spec.vocab.map((t, i) => [t, i]));
  }

  get vocabSize(): number {
    return this.spec.vocab.length;
  }

  /**
   * Builds the vocabulary: words (and bigrams) seen at least `minCount` times, most frequent
   * first. Words that `known` accepts (e.g. ones with a pretrained vector) are kept from one
   * occurrence, and `extra` words (never seen in `texts`) follow at the end.
   */
  static fit(
    texts: Iterable<string>,
    opts: {
      minCount?: number;
      bigrams?: boolean;
      bigramMinCount?: number;
      maxTokens?: number;
      known?: (word: string) => boolean;
      extra?: readonly string[];
    } = {},
  ): WordTokenizer {
    const minCount = opts.minCount ?? 3;
    const bigrams = opts.bigrams ?? false;
    const counts = new Map<string, number>();
    for (const t of texts) {
      const ws = words(t);
      for (const w of bigrams ? withBigrams(ws) : ws) counts.set(w, (counts.get(w) ?? 0) + 1);
    }
    const keep = [...counts]
      .filter(([w, c]) => c >= (w.includes('_') ? (opts.bigramMinCount ?? minCount) : opts.known?.(w) ? 1 : minCount))
      // Ties broken by the token itself: the same captions always give the same ids.
      .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
      .map(([w]) => w);
    const seen = new Set(keep);
    // Only words the tokenizer can produce (GloVe also lists punctuation, e.g. ",").
    const extra = (opts.extra ?? []).filter((w) => !seen.has(w) && !RESERVED.includes(w) && words(w).join(' ') === w && (seen.add(w), true));
    return new WordTokenizer({ type: 'word', vocab: [...RESERVED, ...keep, ...extra], bigrams, maxTokens: opts.maxTokens ?? 64 });
  }

  /** Token ids of one text; unknown words map to UNK, unknown bigrams are dropped. */
  encode(text: string): number[] {
    const ws = words(text);
    const ids = ws.map((w) => this.ids.get(w) ?? UNK);
    if (this.spec.bigrams) {
      for (let i = 0; i + 1 < ws.length; i++) {
        const id = this.ids.get(`${ws[i]}_${ws[i + 1]}`);
        if (id !== undefined) ids.push(id);
      }
    }
    if (ids.length === 0) ids.push(UNK);
    return ids.slice(0, this.spec.maxTokens);
  }

  /** A padded batch: n × width ids (row-major) and the true lengths. */
  encodeBatch(texts: readonly string[]): { ids: Int32Array; lengths: Int32Array; width: number } {
    const seqs = texts.map((t) => this.encode(t));
    const width = Math.max(1, ...seqs.map((s) => s.length));
    const ids = new Int32Array(texts.length * width);
    const lengths = new Int32Array(texts.length);
    seqs.forEach((s, i) => {
      ids.set(s, i * width);
      lengths[i] = s.length;
    });
    return { ids, lengths, width };
  }
}
