/** What scores a label name against the items: a text signal (null when it reads nothing in the words). */
export interface LabelScorer {
  score(words: string[], ids: readonly string[]): Promise<{ scores: Float32Array } | null>;
}

export interface LabelScores {
  /** Per label, in the order given: every item's score, or null for a name the scorer does not understand. */
  scores: Array<Float32Array | null>;
  /** The names no scorer understood, so they can be reported (and their images counted as missed). */
  notUnderstood: string[];
}

/**
 * Each label name's scores over the items, as the text search reads the name. A name the
 * signal cannot read (a word outside its vocabulary, a code such as "SKU-12") is reported as
 * such, and the others keep their figures: zero-shot evaluation of a catalogue's labels must
 * not stop at the first name it cannot read.
 */
export async function labelScores(scorer: LabelScorer, names: readonly string[], ids: readonly string[]): Promise<LabelScores> {
  const scores = await Promise.all(names.map(async (name) => (await scorer.score([name], ids))?.scores ?? null));
  return { scores, notUnderstood: names.filter((_, k) => scores[k] === null) };
}

/**
 * Classifies each item as its best-scoring label. Labels not understood never win; an item
 * whose label was not understood counts as wrong. Returns accuracy and the confusion matrix
 * (rows: true label, columns: predicted), over `rows` (the items' rows in the score arrays).
 */
export function classifyByScores(
  scores: ReadonlyArray<Float32Array | null>,
  rows: readonly number[],
  labels: readonly number[],
): { accuracy: number; confusion: number[][] } {
  const k = scores.length;
  const confusion = Array.from({ length: k }, () => new Array<number>(k).fill(0));
  let correct = 0;
  labels.forEach((label, i) => {
    let best = -1;
    let bestScore = -Infinity;
    for (let c = 0; c < k; c++) {
      const s = scores[c]?.[rows[i]!];
      if (s !== undefined && s > bestScore) {
        best = c;
        bestScore = s;
      }
    }
    if (best < 0) return; // no label understood at all: nothing predicted
    confusion[label]![best]!++;
    if (best === label) correct++;
  });
  return { accuracy: labels.length ? correct / labels.length : 0, confusion };
}
