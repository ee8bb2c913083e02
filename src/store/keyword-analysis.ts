/**
 * How LanceDB's full-text index analyses text (measured against it): split on anything but
 * letters and digits, drop tokens of 40 bytes or more, lower-case, stem (English), drop stop
 * words, fold accents. The in-memory store indexes with it; the LanceDB store uses it to
 * know that a query holds no term at all.
 */
import { stem } from './stem.js';

/** The stop words LanceDB drops (after stemming, so "ifs" and "its" go too). */
const STOP_WORDS = new Set([
  'a',
  'an',
  'and',
  'are',
  'as',
  'at',
  'be',
  'but',
  'by',
  'for',
  'if',
  'in',
  'into',
  'is',
  'it',
  'no',
  'not',
  'of',
  'on',
  'or',
  'such',
  'that',
  'the',
  'their',
  'then',
  'there',
  'these',
  'they',
  'this',
  'to',
  'was',
  'will',
  'with',
]);

/** Letters NFKD does not take apart, as ASCII folding writes them. */
const FOLD: Record<string, string> = { ß: 'ss', æ: 'ae', œ: 'oe', ø: 'o', đ: 'd', ð: 'd', þ: 'th', ł: 'l', ı: 'i', ħ: 'h', ŧ: 't', ŋ: 'n', ſ: 's' };

function fold(token: string): string {
  if (!/[^a-z0-9]/.test(token)) return token;
  return token
    .normalize('NFKD')
    .replace(/\p{M}+/gu, '')
    .replace(/[ßæœøđðþłıħŧŋſ]/g, (c) => FOLD[c]!);
}

const encoder = new TextEncoder();

/** Each word of a text as written (lower-case, accents folded) with the term the index makes of it; stop words and over-long tokens are left out. */
export function analyzeWords(text: string): Array<{ word: string; term: string }> {
  const out: Array<{ word: string; term: string }> = [];
  for (const [raw] of text.matchAll(/[\p{L}\p{N}]+/gu)) {
    if (encoder.encode(raw).length >= 40) continue;
    const lower = raw.toLowerCase();
    const term = stem(lower);
    if (STOP_WORDS.has(term)) continue;
    out.push({ word: fold(lower), term: fold(term) });
  }
  return out;
}

/** The terms of a text, as the index sees them. */
export function analyze(text: string): string[] {
  return analyzeWords(text).map((w) => w.term);
}
