/**
 * Levenshtein distance (insertions, deletions, substitutions), and the number of edits a word
 * may be off by and still match: what lets a search find text that was read with a letter lost
 * or misread, as search engines forgive typos.
 */

/** Edits between a and b, or `max + 1` as soon as it is certain to exceed `max` (default: exact). */
export function editDistance(a: string, b: string, max = Infinity): number {
  if (Math.abs(a.length - b.length) > max) return max + 1;
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  let cur = new Array<number>(b.length + 1);
  for (let i = 1; i <= a.length; i++) {
    cur[0] = i;
    let rowMin = i;
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
      if (cur[j]! < rowMin) rowMin = cur[j]!;
    }
    if (rowMin > max) return max + 1;
    [prev, cur] = [cur, prev];
  }
  return prev[b.length]!;
}

/**
 * Edits a query word of this length may be off by: none below five letters (short words are
 * too often another word one letter away), one from five, two from nine — the usual search
 * engine defaults.
 */
export function typoBudget(length: number): number {
  return length >= 9 ? 2 : length >= 5 ? 1 : 0;
}

/** Whether a word as read is a near miss of a query word: other than it, within its typo budget (never for numbers). */
export function nearMatch(read: string, word: string): boolean {
  const budget = /\p{L}/u.test(word) ? typoBudget(word.length) : 0;
  return budget > 0 && read !== word && editDistance(read, word, budget) <= budget;
}
