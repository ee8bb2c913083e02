/**
 * Text features for the composition model: a bag of words and word pairs (fastText-style).
 * Word pairs keep the order that matters in a modification ("make the red circle blue" is not
 * "make the blue circle red") while staying indifferent to where a phrase sits in the sentence;
 * the learned layers on top do the rest. Pure functions; the vocabulary is saved with the model.
 */

export interface TextVocabulary {
  /** Feature strings (words, and pairs joined by a space) in column order. */
  features: string[];
}

const START = '<s>';
const END = '</s>';

/** Lower-cased words; hyphenated names ("top-left") stay one word. */
export function tokenize(text: string): string[] {
  return text
    .toLowerCase()
    .split(/[^\p{L}\p{N}-]+/u)
    .map((w) => w.replace(/^-+|-+$/g, ''))
    .filter((w) => w.length > 0);
}

/** The words of a text and its adjacent word pairs, with sentence boundaries marked. */
export function textFeatures(text: string): string[] {
  const words = tokenize(text);
  const padded = [START, ...words, END];
  const pairs = padded.slice(1).map((w, i) => `${padded[i]} ${w}`);
  return [...words, ...pairs];
}

/**
 * The features seen at least `minCount` times in the training texts, most frequent first,
 * at most `maxFeatures` of them (ties broken alphabetically, so the order is reproducible).
 */
export function buildVocabulary(texts: Iterable<string>, opts: { minCount?: number; maxFeatures?: number } = {}): TextVocabulary {
  const counts = new Map<string, number>();
  for (const t of texts) for (const f of new Set(textFeatures(t))) counts.set(f, (counts.get(f) ?? 0) + 1);
  const minCount = opts.minCount ?? 1;
  const features = [...counts]
    .filter(([, n]) => n >= minCount)
    .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
    .slice(0, opts.maxFeatures ?? 8192)
    .map(([f]) => f);
  return { features };
}

/** A lookup from feature string to column, built once per vocabulary. */
export function featureIndex(vocab: TextVocabulary): Map<string, number> {
  return new Map(vocab.features.map((f, i) => [f, i]));
}

/**
 * Multi-hot rows (texts × vocabulary), each scaled to unit length so long and short texts
 * weigh the same. Features outside the vocabulary are dropped; `unknown` counts them per text.
 */
export function encodeTexts(texts: readonly string[], index: ReadonlyMap<string, number>): { rows: Float32Array; unknown: number[] } {
  const dim = index.size;
  const rows = new Float32Array(texts.length * dim);
  const unknown: number[] = [];
  texts.forEach((t, r) => {
    let hits = 0;
    let missed = 0;
    for (const f of new Set(textFeatures(t))) {
      const c = index.get(f);
      if (c === undefined) missed++;
      else {
        rows[r * dim + c] = 1;
        hits++;
      }
    }
    if (hits > 0) {
      const inv = 1 / Math.sqrt(hits);
      for (let c = 0; c < dim; c++) rows[r * dim + c]! *= inv;
    }
    unknown.push(missed);
  });
  return { rows, unknown };
}
