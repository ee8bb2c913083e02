/**
 * Reads a query's words as what per-image facts can check: objects and people with how many
 * ("two dogs", "a crowd", "children"), and colours bound to what they qualify ("black dog" → the
 * dog's box, "red shirt" → the wearer's box, "green grass" → the whole image). A search query
 * has no grammar to parse, so the reading is by word order: a count and colours wait for the
 * next noun.
 */
import type { BasicColour } from '../core/facts.js';
import { BASIC_COLOURS } from '../core/facts.js';
import type { CocoWords } from '../concepts/coco-words.js';
import { FUNCTION_WORDS, lemmaTokens } from '../text/words.js';

/** How many of a thing the words ask for, inclusive (max Infinity: "at least"). */
export interface CountWanted {
  min: number;
  max: number;
}

/** One thing the detector can find: its classes and how many. */
export interface ObjectTerm {
  /** The words as written ("two dogs", "a man"). */
  text: string;
  /** Detector classes (several for a broad word: "animal"). */
  labels: string[];
  count: CountWanted;
  /** Whether the count was said ("two", "a", a plural) rather than assumed (at least one). */
  counted: boolean;
}

/** A colour and what it qualifies. */
export interface ColourTerm {
  colour: BasicColour;
  /** The colour word as written ("navy"). */
  word: string;
  /** An object term's index, the people wearing clothing, or the whole image. */
  target: { kind: 'object'; term: number } | { kind: 'worn'; word: string } | { kind: 'image'; word?: string };
  /** Not said but implied by a scene word ("grass": green), which then names it in `word`. */
  implied?: boolean;
}

export interface FactsReading {
  objects: ObjectTerm[];
  colours: ColourTerm[];
}

/** Colour words → the basic colour they are stored under. */
export const COLOUR_WORDS: ReadonlyMap<string, BasicColour> = new Map<string, BasicColour>([
  ...BASIC_COLOURS.map((c) => [c, c] as const),
  ['gray', 'grey'],
  ['silver', 'grey'],
  ['charcoal', 'grey'],
  ['crimson', 'red'],
  ['scarlet', 'red'],
  ['maroon', 'red'],
  ['burgundy', 'red'],
  ['navy', 'blue'],
  ['turquoise', 'blue'],
  ['teal', 'blue'],
  ['azure', 'blue'],
  ['violet', 'purple'],
  ['lavender', 'purple'],
  ['magenta', 'purple'],
  ['lilac', 'purple'],
  ['gold', 'yellow'],
  ['golden', 'yellow'],
  ['blond', 'yellow'],
  ['blonde', 'yellow'],
  ['olive', 'green'],
  ['lime', 'green'],
  ['tan', 'brown'],
  ['beige', 'brown'],
  ['khaki', 'brown'],
  ['chocolate', 'brown'],
  ['cream', 'white'],
  ['ivory', 'white'],
  ['fuchsia', 'pink'],
]);

const NUMBERS: ReadonlyMap<string, number> = new Map([
  ['a', 1],
  ['an', 1],
  ['one', 1],
  ['single', 1],
  ['lone', 1],
  ['two', 2],
  ['both', 2],
  ['pair', 2],
  ['couple', 2],
  ['three', 3],
  ['four', 4],
  ['five', 5],
  ['six', 6],
  ['seven', 7],
  ['eight', 8],
  ['nine', 9],
  ['ten', 10],
  ['dozen', 12],
]);
/** Words for "several" of what follows ("several dogs", "a group of people"). */
const SEVERAL: ReadonlyMap<string, number> = new Map([
  ['several', 3],
  ['many', 3],
  ['some', 2],
  ['few', 2],
  ['group', 3],
  ['crowd', 3],
  ['bunch', 3],
  ['team', 3],
  ['pack', 3],
  ['herd', 3],
  ['flock', 3],
  ['lots', 3],
]);
/** Collective words that alone mean people ("a crowd", "a family"), with how many at least. */
const PEOPLE: ReadonlyMap<string, CountWanted> = new Map([
  ['people', { min: 2, max: Infinity }],
  ['crowd', { min: 3, max: Infinity }],
  ['group', { min: 3, max: Infinity }],
  ['team', { min: 3, max: Infinity }],
  ['family', { min: 3, max: Infinity }],
  ['audience', { min: 3, max: Infinity }],
  ['couple', { min: 2, max: 2 }],
]);
/**
 * Scenes whose colour goes without saying: "a dog runs through the snow" is a mostly white
 * picture, "on the grass" a green one. Each counts as that colour in the whole image.
 */
export const SCENE_COLOURS: ReadonlyMap<string, BasicColour> = new Map<string, BasicColour>([
  ...['grass', 'grassy', 'lawn', 'field', 'park', 'forest', 'woods', 'tree', 'trees', 'leaves', 'yard'].map((w) => [w, 'green'] as const),
  ...['snow', 'snowy', 'ice'].map((w) => [w, 'white'] as const),
  ...['water', 'pool', 'ocean', 'sea', 'lake', 'river', 'sky', 'wave', 'waves', 'surf'].map((w) => [w, 'blue'] as const),
  ...['sand', 'sandy', 'beach', 'dirt', 'mud', 'muddy', 'desert'].map((w) => [w, 'brown'] as const),
  ...['street', 'road', 'pavement', 'sidewalk', 'concrete', 'city'].map((w) => [w, 'grey'] as const),
  ...['night', 'dark'].map((w) => [w, 'black'] as const),
]);

/** Words that keep a pending count or colour waiting for its noun ("two small dogs", "a black and white dog"). */
const KEEP = new Set(['and', 'of', 'small', 'big', 'large', 'little', 'young', 'old', 'tall', 'dark', 'light', 'bright', 'other']);

/** Reads query words (terms as the pipeline parsed them) into object and colour terms. */
export function readFactsQuery(terms: readonly string[], vocab: CocoWords, isNoun: (word: string) => boolean): FactsReading {
  const tokens = terms.flatMap(lemmaTokens);
  const objects: ObjectTerm[] = [];
  const colours: ColourTerm[] = [];
  // Where a count waits for its noun (a type the closures below do not narrow away).
  let count = null as { value: CountWanted; from: number } | null;
  let pending: Array<{ colour: BasicColour; word: string }> = [];
  const bind = (target: ColourTerm['target']) => {
    for (const p of pending) colours.push({ ...p, target });
    pending = [];
  };
  const addObject = (labels: string[], start: number, end: number, wanted: CountWanted | null, plural: boolean) => {
    const from = count ? Math.min(count.from, start) : start;
    const value = wanted ?? count?.value ?? (plural ? { min: 2, max: Infinity } : { min: 1, max: Infinity });
    objects.push({ text: tokens.slice(from, end).join(' '), labels, count: value, counted: wanted !== null || count !== null || plural });
    bind({ kind: 'object', term: objects.length - 1 });
    count = null;
  };

  for (let i = 0; i < tokens.length;) {
    const t = tokens[i]!;
    const next = tokens[i + 1];
    // A colour, unless it is the thing itself ("an orange" the fruit: nothing follows it).
    const colour = COLOUR_WORDS.get(t);
    if (colour && ((next !== undefined && !FUNCTION_WORDS.has(next)) || !vocab.read(t))) {
      pending.push({ colour, word: t });
      i++;
      continue;
    }
    const n = NUMBERS.get(t) ?? (/^\d+$/.test(t) ? Number(t) : undefined);
    const several = SEVERAL.get(t);
    // "a group of dogs", "a couple of dogs": a count for the noun after "of".
    if ((several !== undefined || n !== undefined) && next === 'of' && (PEOPLE.has(t) || several !== undefined || t === 'pair' || t === 'couple')) {
      count = { value: t === 'pair' || t === 'couple' ? { min: 2, max: 2 } : { min: several ?? n!, max: Infinity }, from: count?.from ?? i };
      i += 2;
      continue;
    }
    const people = PEOPLE.get(t);
    if (people) {
      // "two people", "a group of people" say how many; "a crowd" says it itself.
      addObject(['person'], i, i + 1, t === 'people' ? (count?.value ?? people) : people, true);
      i++;
      continue;
    }
    if (n !== undefined && n > 0 && n < 1000) {
      count = { value: { min: n, max: n }, from: i };
      i++;
      continue;
    }
    if (several !== undefined) {
      count = { value: { min: several, max: Infinity }, from: i };
      i++;
      continue;
    }
    // Class names of several words first ("teddy bear", "hot dog", "tennis racket").
    let read = null;
    let len = 1;
    for (let m = Math.min(3, tokens.length - i); m >= 2 && !read; m--) {
      read = vocab.read(tokens.slice(i, i + m).join(' '));
      if (read) len = m;
    }
    // A garment is its wearer's, never a class of its own ("sweater" is also one who sweats).
    if (!read && !FUNCTION_WORDS.has(t) && isNoun(t) && !vocab.isClothing(t)) read = vocab.read(t);
    if (read) {
      addObject(read.labels, i, i + len, null, read.plural);
      i += len;
      continue;
    }
    if (FUNCTION_WORDS.has(t) || KEEP.has(t)) {
      i++;
      continue;
    }
    // In a compound the colour is the last noun's ("a blue tennis shirt": the shirt's).
    const nextNoun = next !== undefined && !FUNCTION_WORDS.has(next) && !COLOUR_WORDS.has(next) && (isNoun(next) || vocab.isClothing(next));
    if (pending.length && nextNoun) {
      i++;
      continue;
    }
    // A colour on clothing is its wearer's ("a pink dress": "dress" is a verb more often than a
    // noun); on anything else the detector does not know, the image's ("green grass").
    if (pending.length && vocab.isClothing(t)) {
      bind({ kind: 'worn', word: t });
      count = null;
    } else if (isNoun(t) || SCENE_COLOURS.has(t)) {
      const scene = SCENE_COLOURS.get(t);
      if (pending.length) bind({ kind: 'image', word: t });
      else if (scene && !colours.some((c) => c.implied && c.word === t))
        colours.push({ colour: scene, word: t, target: { kind: 'image', word: t }, implied: true });
      count = null;
    }
    i++;
  }
  if (pending.length) bind({ kind: 'image' });
  return { objects, colours };
}
