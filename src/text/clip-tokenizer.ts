import fs from 'node:fs';
import { toByteLevel } from './byte-level.js';
import { readBpeTokenizer, type BpeTokenizerData } from './tokenizer-json.js';

/**
 * CLIP's word pattern (the Split pre-tokenizer of every CLIP tokenizer.json): English
 * contractions, runs of letters, single digits, runs of anything else; whitespace separates
 * words and is dropped.
 */
const WORD = /'s|'t|'re|'ve|'m|'ll|'d|\p{L}+|\p{N}|[^\s\p{L}\p{N}]+/gu;
const WHITESPACE = /\s+/gu;

const BOS = '<|startoftext|>';
const EOS = '<|endoftext|>';

/** A batch of token sequences, padded to one length, as the text tower takes them. */
export interface TokenBatch {
  count: number;
  length: number;
  /** count × length token ids. */
  ids: BigInt64Array;
  /** count × length: 1 for a real token, 0 for padding. */
  attentionMask: BigInt64Array;
  /** Which texts were longer than `length` and lost their tail. */
  truncated: boolean[];
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * CLIP's tokenizer (byte-level BPE, `</w>` word ends) built from a tokenizer.json: text is
 * NFC-normalised, whitespace collapsed and lower-cased, cut into CLIP's words, each word
 * turned into bytes and merged by the BPE rules; the ids are framed by start and end tokens.
 * It gives the same ids as Hugging Face's tokenizers for the same file.
 */
export class ClipTokenizer {
  readonly bosId: number;
  readonly eosId: number;
  /** CLIP pads with its end token; the text tower reads the first end token only. */
  readonly padId: number;
  readonly vocabSize: number;
  private readonly ranks = new Map<string, number>();
  private readonly cache = new Map<string, number[]>();
  private readonly special: Map<string, number>;
  private readonly specialPattern: RegExp | null;
  private readonly unkId: number | undefined;

  constructor(private readonly data: BpeTokenizerData) {
    data.merges.forEach(([a, b], i) => this.ranks.set(`${a} ${b}`, i));
    this.special = new Map(data.addedTokens.filter((t) => t.special).map((t) => [t.content, t.id]));
    const bos = this.special.get(BOS) ?? data.vocab.get(BOS);
    const eos = this.special.get(EOS) ?? data.vocab.get(EOS);
    if (bos === undefined || eos === undefined) throw new Error(`tokenizer has no ${BOS} / ${EOS} tokens`);
    this.bosId = bos;
    this.eosId = eos;
    this.padId = eos;
    this.unkId = data.unkToken === null ? undefined : data.vocab.get(data.unkToken);
    let max = -1;
    for (const id of data.vocab.values()) max = Math.max(max, id);
    for (const t of data.addedTokens) max = Math.max(max, t.id);
    this.vocabSize = max + 1;
    // Special tokens typed in the text are kept whole, as Hugging Face's tokenizers do.
    const names = [...this.special.keys()].sort((a, b) => b.length - a.length).map(escapeRegExp);
    this.specialPattern = names.length > 0 ? new RegExp(names.join('|'), 'g') : null;
  }

  static fromJson(json: unknown): ClipTokenizer {
    return new ClipTokenizer(readBpeTokenizer(json));
  }

  static load(file: string): ClipTokenizer {
    return ClipTokenizer.fromJson(JSON.parse(fs.readFileSync(file, 'utf8')));
  }

  /** Token ids of `text`, framed by the start and end tokens, not truncated. */
  encode(text: string): number[] {
    const ids = [this.bosId];
    let last = 0;
    if (this.specialPattern) {
      for (const m of text.matchAll(this.specialPattern)) {
        this.encodeSegment(text.slice(last, m.index), ids);
        ids.push(this.special.get(m[0])!);
        last = m.index + m[0].length;
      }
    }
    this.encodeSegment(text.slice(last), ids);
    ids.push(this.eosId);
    return ids;
  }

  /**
   * Token ids of several texts, each cut or padded to `length`. A text that is too long keeps
   * its first `length - 2` tokens and still ends with the end token, as OpenAI's CLIP and
   * Hugging Face's Python tokenizers do: CLIP's text tower reads its output at the end token,
   * so cutting that token off would read it at an arbitrary word instead.
   */
  encodeBatch(texts: readonly string[], length: number): TokenBatch {
    if (!Number.isInteger(length) || length < 2) throw new Error(`context length must be at least 2, got ${length}`);
    const ids = new BigInt64Array(texts.length * length).fill(BigInt(this.padId));
    const attentionMask = new BigInt64Array(texts.length * length);
    const truncated: boolean[] = [];
    texts.forEach((text, i) => {
      let seq = this.encode(text);
      truncated.push(seq.length > length);
      if (seq.length > length) seq = [...seq.slice(0, length - 1), this.eosId];
      for (let j = 0; j < seq.length; j++) {
        ids[i * length + j] = BigInt(seq[j]!);
        attentionMask[i * length + j] = 1n;
      }
    });
    return { count: texts.length, length, ids, attentionMask, truncated };
  }

  private encodeSegment(segment: string, out: number[]): void {
    if (segment.length === 0) return;
    const text = segment.normalize('NFC').replace(WHITESPACE, ' ').toLowerCase();
    for (const m of text.matchAll(WORD)) {
      const word = m[0];
      let ids = this.cache.get(word);
      if (!ids) {
        ids = this.bpe(word);
        // Captions repeat words endlessly; a bounded cache keeps memory flat on odd input.
        if (this.cache.size < 100_000) this.cache.set(word, ids);
      }
      for (const id of ids) out.push(id);
    }
  }

  /** Applies the merge rules to one word, lowest rank first, until none applies. */
  private bpe(word: string): number[] {
    const parts = toByteLevel(word);
    parts[parts.length - 1] += this.data.endOfWordSuffix;
    while (parts.length > 1) {
      let best = Infinity;
      for (let i = 0; i < parts.length - 1; i++) {
        const r = this.ranks.get(`${parts[i]} ${parts[i + 1]}`);
        if (r !== undefined && r < best) best = r;
      }
      if (best === Infinity) break;
      const [a, b] = this.data.merges[best]!;
      // Merge every occurrence of the pair, left to right.
      for (let i = 0; i < parts.length - 1; i++) {
        if (parts[i] === a && parts[i + 1] === b) parts.splice(i, 2, a + b);
      }
    }
    return parts.map((p) => {
      const id = this.data.vocab.get(p) ?? this.unkId;
      if (id === undefined) throw new Error(`token ${JSON.stringify(p)} is not in the vocabulary and the tokenizer has no unknown token`);
      return id;
    });
  }
}
