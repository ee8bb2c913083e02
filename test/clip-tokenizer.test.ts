import fs from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ClipTokenizer } from '../src/text/clip-tokenizer.js';
import { canonicalTokenizerJson, readBpeTokenizer } from '../src/text/tokenizer-json.js';
import { flickrCaptions, referenceTokenizer } from './clip-fixtures.js';
import { CLIP_TOKENIZER_DIR } from './fixtures.js';

const TOKENIZER_JSON = path.join(CLIP_TOKENIZER_DIR, 'tokenizer.json');
const BOS = 49406;
const EOS = 49407;

/** Odd inputs: case, runs of whitespace, accents, ligatures, emoji, contractions, digits, scripts, special tokens. */
const EDGE_CASES = [
  '  Hello,   WORLD!!  ',
  'café naïve Ünïcödé ﬁsh',
  'e\u0301 (e + combining acute, NFC-composed)',
  'emoji 🐶🏖️ dog',
  "it's they're we've I'm you'll he'd don''t",
  '12345 3.14 1,000,000',
  '日本語のテキスト and Ελληνικά ΣΑΣ İstanbul',
  'tab\tnew\nline\r\nend',
  '',
  '<|endoftext|> typed <|startoftext|>in text',
  'dog '.repeat(90),
];

describe('CLIP tokenizer (our BPE) against transformers.js on the same tokenizer.json', () => {
  let ours: ClipTokenizer;
  let ref: ReturnType<typeof referenceTokenizer>;
  let captions: string[];

  beforeAll(() => {
    ours = ClipTokenizer.load(TOKENIZER_JSON);
    ref = referenceTokenizer();
    captions = flickrCaptions();
  });

  it('reads CLIP ViT-B/32: 49,408 tokens, start and end tokens, the documented example', () => {
    expect(ours.vocabSize).toBe(49408);
    expect([ours.bosId, ours.eosId, ours.padId]).toEqual([BOS, EOS, EOS]);
    expect(ours.encode('a photo of a dog')).toEqual([49406, 320, 1125, 539, 320, 1929, 49407]);
  });

  it('gives identical ids and masks on all 5,000 Flickr8k test captions and odd inputs, padded to 77', () => {
    const texts = [...captions, ...EDGE_CASES];
    const batch = ours.encodeBatch(texts, 77);
    const expected = ref(texts, { padding: 'max_length', truncation: true, max_length: 77, return_tensor: false }) as unknown as {
      input_ids: number[][];
      attention_mask: number[][];
    };
    let mismatches = 0;
    texts.forEach((t, i) => {
      const ids = Array.from(batch.ids.subarray(i * 77, (i + 1) * 77), Number);
      const mask = Array.from(batch.attentionMask.subarray(i * 77, (i + 1) * 77), Number);
      const long = batch.truncated[i]!;
      // The repeated word is the one text longer than 77 tokens (handled in the next test).
      if (long) return;
      if (ids.join() !== expected.input_ids[i]!.join() || mask.join() !== expected.attention_mask[i]!.join()) mismatches++;
    });
    expect(mismatches).toBe(0);
    expect(batch.truncated.filter(Boolean)).toHaveLength(1);
    console.log(`tokenizer: ${texts.length - 1} texts padded to 77, texts whose ids or mask differ from transformers.js: ${mismatches}`);
  });

  it('truncates long texts to the context length keeping the end token (77 and a short context of 16)', () => {
    // Long texts: 4 to 10 captions run together (no caption alone reaches 77 tokens).
    const long = Array.from({ length: 60 }, (_, i) => captions.slice(i * 10, i * 10 + 4 + (i % 7)).join(' '));
    for (const [texts, length] of [
      [long, 77],
      [captions.slice(0, 300), 16],
    ] as const) {
      const batch = ours.encodeBatch(texts, length);
      const full = ref(texts as string[], { return_tensor: false }) as unknown as { input_ids: number[][] };
      // transformers.js cuts sequences at max_length, dropping the end token, where OpenAI's
      // clip.tokenize(truncate=True) and Hugging Face's Python tokenizers keep it: the
      // expectation is the reference's untruncated ids, cut, with the end token restored.
      const cut = ref(texts as string[], { padding: 'max_length', truncation: true, max_length: length, return_tensor: false }) as unknown as {
        input_ids: number[][];
      };
      let truncatedCount = 0;
      texts.forEach((_, i) => {
        const ids = Array.from(batch.ids.subarray(i * length, (i + 1) * length), Number);
        const reference = full.input_ids[i]!;
        if (reference.length > length) {
          truncatedCount++;
          expect(batch.truncated[i]).toBe(true);
          expect(ids).toEqual([...reference.slice(0, length - 1), EOS]);
          expect(ids.slice(0, length - 1)).toEqual(cut.input_ids[i]!.slice(0, length - 1));
          expect(cut.input_ids[i]!.at(-1)).not.toBe(EOS);
        } else {
          expect(batch.truncated[i]).toBe(false);
          expect(ids).toEqual(cut.input_ids[i]);
        }
      });
      expect(truncatedCount).toBeGreaterThan(length === 77 ? 30 : 50);
      console.log(
        `tokenizer: context ${length}, ${texts.length} texts, ${truncatedCount} truncated, all equal to the reference's ids cut with the end token kept`,
      );
    }
  });

  it('reads merges written as "a b" strings (older tokenizer.json) the same as pairs', () => {
    const json = JSON.parse(fs.readFileSync(TOKENIZER_JSON, 'utf8'));
    json.model.merges = json.model.merges.map((m: [string, string]) => m.join(' '));
    const old = ClipTokenizer.fromJson(json);
    for (const t of captions.slice(0, 200)) expect(old.encode(t)).toEqual(ours.encode(t));
    expect(canonicalTokenizerJson(Buffer.from(JSON.stringify(json))).equals(canonicalTokenizerJson(fs.readFileSync(TOKENIZER_JSON)))).toBe(true);
  });

  it('refuses tokenizers it would get wrong', () => {
    const json = JSON.parse(fs.readFileSync(TOKENIZER_JSON, 'utf8'));
    expect(() => readBpeTokenizer({ ...json, model: { ...json.model, type: 'Unigram' } })).toThrow(/Unigram.*not supported/);
    expect(() => readBpeTokenizer({ ...json, model: { ...json.model, end_of_word_suffix: null } })).toThrow(/not CLIP-style/);
    expect(() => readBpeTokenizer({ ...json, normalizer: { type: 'NFC' } })).toThrow(/lower-case/);
  });
});
