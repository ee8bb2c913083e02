/**
 * The one word splitter of keyword search, its explanations and query reading. Trained models
 * keep the tokenisers saved with them (text/word-tokenizer.ts, text/clip-tokenizer.ts).
 */

const WORD = /[\p{L}\p{N}]+/gu;

/** Lower-case runs of letters and digits: "redDress_front-2" → red, dress, front, 2 (after splitCamel). */
export function words(text: string): string[] {
  return text.toLowerCase().match(WORD) ?? [];
}

/** "redDress" → "red Dress": file names written in camel case hold several words. */
export function splitCamel(text: string): string {
  return text.replace(/([a-z])([A-Z])/g, '$1 $2');
}

/** A file name's or field's words as keyword search indexes them, joined by spaces. */
export function wordText(text: string): string {
  return splitCamel(text)
    .replace(/[^\p{L}\p{N}]+/gu, ' ')
    .trim();
}

/**
 * Query words as the concept reader takes them: like `words`, but apostrophes and hyphens inside
 * a word stay ("jack-o'-lantern", "man's"), since WordNet's lemmas hold them.
 */
export function lemmaTokens(text: string): string[] {
  return (
    text
      .toLowerCase()
      .match(/[\p{L}\p{N}'-]+/gu)
      ?.map((t) => t.replace(/^['-]+|['-]+$/g, ''))
      .filter(Boolean) ?? []
  );
}

/** Words WordNet also lists as nouns ("a" the vitamin, "in" the inch, "it" the game) that a query uses as grammar. */
export const FUNCTION_WORDS: ReadonlySet<string> = new Set(
  (
    'a an the in on at of is are was were be been being it its to as or and but if so no not nor for from by with without into onto ' +
    'up down out over under off one two three four five six seven eight nine ten some many several all each both who what which this that ' +
    'these those he she his her him i me my we us our you your they them their there here do does doing am has have had near next while'
  ).split(' '),
);

/** Query words present in an item's text, allowing for inflection (dress ~ dresses). */
export function matchedWords(query: readonly string[], text: string): string[] {
  const tokens = new Set(words(splitCamel(text)).filter((w) => w.length > 1));
  const stem = (w: string) => w.slice(0, Math.max(3, w.length - 2));
  return [...new Set(query)].filter((q) => {
    const s = stem(q.toLowerCase());
    for (const t of tokens) if (t.startsWith(s) || s.startsWith(stem(t))) return true;
    return false;
  });
}
