// Lexing shared by everything that reads a `where` filter's text (the memory store's evaluator,
// the search's splitting of a filter between the store and its plug-ins).

/**
 * The string literal ('…') or quoted identifier ("…") starting at `start`, a doubled quote
 * standing for one: its text, the index just past it, and whether its closing quote was found.
 */
export function readQuoted(where: string, start: number): { text: string; end: number; closed: boolean } {
  const quote = where[start]!;
  let text = '';
  let j = start + 1;
  while (j < where.length) {
    if (where[j] === quote) {
      if (where[j + 1] !== quote) return { text, end: j + 1, closed: true };
      text += quote;
      j += 2;
    } else {
      text += where[j++];
    }
  }
  return { text, end: where.length, closed: false };
}
