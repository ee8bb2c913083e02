/**
 * The Snowball English ("Porter2") stemmer, the one LanceDB's full-text index uses (through
 * rust-stemmers): "dresses" → "dress", "running" → "run", "skies" → "sky". Letters outside a–z
 * count as consonants, as there.
 */

const VOWELS = new Set(['a', 'e', 'i', 'o', 'u', 'y']);
const DOUBLES = ['bb', 'dd', 'ff', 'gg', 'mm', 'nn', 'pp', 'rr', 'tt'];
const LI_ENDINGS = new Set(['c', 'd', 'e', 'g', 'h', 'k', 'm', 'n', 'r', 't']);

const EXCEPTIONS: Record<string, string> = {
  skis: 'ski',
  skies: 'sky',
  dying: 'die',
  lying: 'lie',
  tying: 'tie',
  idly: 'idl',
  gently: 'gentl',
  ugly: 'ugli',
  early: 'earli',
  only: 'onli',
  singly: 'singl',
  sky: 'sky',
  news: 'news',
  howe: 'howe',
  atlas: 'atlas',
  cosmos: 'cosmos',
  bias: 'bias',
  andes: 'andes',
};
const AFTER_1A = new Set(['inning', 'outing', 'canning', 'herring', 'earring', 'proceed', 'exceed', 'succeed']);

const STEP2: Array<[string, string]> = [
  ['ization', 'ize'],
  ['ational', 'ate'],
  ['fulness', 'ful'],
  ['ousness', 'ous'],
  ['iveness', 'ive'],
  ['tional', 'tion'],
  ['biliti', 'ble'],
  ['lessli', 'less'],
  ['entli', 'ent'],
  ['ation', 'ate'],
  ['alism', 'al'],
  ['aliti', 'al'],
  ['ousli', 'ous'],
  ['iviti', 'ive'],
  ['fulli', 'ful'],
  ['enci', 'ence'],
  ['anci', 'ance'],
  ['abli', 'able'],
  ['izer', 'ize'],
  ['ator', 'ate'],
  ['alli', 'al'],
  ['bli', 'ble'],
  ['ogi', 'og'],
  ['li', ''],
];
const STEP3: Array<[string, string]> = [
  ['ational', 'ate'],
  ['tional', 'tion'],
  ['alize', 'al'],
  ['icate', 'ic'],
  ['iciti', 'ic'],
  ['ative', ''],
  ['ical', 'ic'],
  ['ness', ''],
  ['ful', ''],
];
const STEP4 = ['ement', 'ance', 'ence', 'able', 'ible', 'ment', 'ant', 'ent', 'ism', 'ate', 'iti', 'ous', 'ive', 'ize', 'ion', 'al', 'er', 'ic'];

const isVowel = (c: string | undefined) => c !== undefined && VOWELS.has(c);

/** Start of the region after the first non-vowel following a vowel, from `from` (word length if none). */
function regionAfter(w: string, from: number): number {
  for (let i = from + 1; i < w.length; i++) if (!isVowel(w[i]) && isVowel(w[i - 1])) return i + 1;
  return w.length;
}

/** Whether the letters ending at `end` (exclusive) form a short syllable. */
function shortSyllableAt(w: string, end: number): boolean {
  if (end === 2) return isVowel(w[0]) && !isVowel(w[1]);
  if (end < 3) return false;
  const [a, b, c] = [w[end - 3], w[end - 2], w[end - 1]!];
  return !isVowel(a) && isVowel(b) && !isVowel(c) && c !== 'w' && c !== 'x' && c !== 'Y';
}

export function stem(word: string): string {
  if (word.length <= 2) return word;
  if (word in EXCEPTIONS) return EXCEPTIONS[word]!;
  let w = word.startsWith("'") ? word.slice(1) : word;
  // y as a consonant: at the start, or after a vowel.
  w = w.replace(/^y/, 'Y').replace(/([aeiouy])y/g, '$1Y');
  const r1 = /^(gener|commun|arsen)/.exec(w)?.[0].length ?? regionAfter(w, 0);
  const r2 = regionAfter(w, r1);
  const ends = (s: string) => w.endsWith(s);
  const setEnd = (len: number, repl: string) => {
    w = w.slice(0, w.length - len) + repl;
  };

  // Step 0: possessives.
  for (const s of ["'s'", "'s", "'"]) {
    if (ends(s)) {
      setEnd(s.length, '');
      break;
    }
  }
  // Step 1a: plurals.
  if (ends('sses')) setEnd(4, 'ss');
  else if (ends('ied') || ends('ies')) setEnd(3, w.length > 4 ? 'i' : 'ie');
  else if (ends('us') || ends('ss')) {
    /* unchanged */
  } else if (ends('s')) {
    const before = w.slice(0, -2);
    if ([...before].some((c) => isVowel(c))) setEnd(1, '');
  }
  if (AFTER_1A.has(w)) return w;

  // Step 1b: -ed, -ing.
  const step1b = ['eedly', 'ingly', 'edly', 'eed', 'ing', 'ed'].find(ends);
  if (step1b === 'eed' || step1b === 'eedly') {
    if (w.length - step1b.length >= r1) setEnd(step1b.length, 'ee');
  } else if (step1b) {
    const stemPart = w.slice(0, -step1b.length);
    if ([...stemPart].some((c) => isVowel(c))) {
      w = stemPart;
      if (ends('at') || ends('bl') || ends('iz')) w += 'e';
      else if (DOUBLES.some(ends)) w = w.slice(0, -1);
      else if (shortSyllableAt(w, w.length) && r1 >= w.length) w += 'e';
    }
  }
  // Step 1c: y → i after a consonant that is not the first letter.
  if ((ends('y') || ends('Y')) && w.length > 2 && !isVowel(w[w.length - 2])) setEnd(1, 'i');

  // Step 2.
  for (const [suffix, repl] of STEP2) {
    if (!ends(suffix)) continue;
    if (w.length - suffix.length >= r1) {
      if (suffix === 'ogi') {
        if (w[w.length - 4] === 'l') setEnd(3, 'og');
      } else if (suffix === 'li') {
        if (LI_ENDINGS.has(w[w.length - 3] ?? '')) setEnd(2, '');
      } else setEnd(suffix.length, repl);
    }
    break;
  }
  // Step 3.
  for (const [suffix, repl] of STEP3) {
    if (!ends(suffix)) continue;
    if (w.length - suffix.length >= r1 && (suffix !== 'ative' || w.length - suffix.length >= r2)) setEnd(suffix.length, repl);
    break;
  }
  // Step 4.
  for (const suffix of STEP4) {
    if (!ends(suffix)) continue;
    if (w.length - suffix.length >= r2 && (suffix !== 'ion' || w[w.length - 4] === 's' || w[w.length - 4] === 't')) setEnd(suffix.length, '');
    break;
  }
  // Step 5.
  if (ends('e')) {
    const at = w.length - 1;
    if (at >= r2 || (at >= r1 && !shortSyllableAt(w, at))) setEnd(1, '');
  } else if (ends('l') && w.length - 1 >= r2 && w[w.length - 2] === 'l') setEnd(1, '');
  return w.replace(/Y/g, 'y');
}
