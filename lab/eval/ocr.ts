/**
 * `visor-lab eval ocr`: how well the 'text' fact stage reads words printed in photographs,
 * and how often it invents text where there is none. A word is rendered onto each Flickr8k
 * test photo (ocr-bench.ts); the 7,000 Flickr8k train and dev photos are distractors. Every
 * image is read once with no confidence threshold, so thresholds are compared afterwards.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { PaddleOcr, type PaddleOcrOptions } from '../../src/models/ocr/paddle-ocr.js';
import { keepTextLine, TEXT_MIN_SCORE } from '../../src/facts/text-reader.js';
import { printedScores } from '../../src/search/signals/printed.js';
import { editDistance } from '../../src/text/edit-distance.js';
import { loadFlickr8k } from './datasets.js';
import { generateOcrBenchmark, SIZE_BANDS, type RenderedWord } from './ocr-bench.js';

/** One line as read, before any threshold. */
export interface ReadLine {
  text: string;
  score: number;
}

export interface ImageRead {
  id: string;
  lines: ReadLine[];
  detMs: number;
  recMs: number;
  /** Process CPU time during detection and recognition, where the reader measures it. */
  detCpuMs?: number;
  recCpuMs?: number;
}

/** Photos best first for a word, with their scores (equal scores are a tie, counted as a miss). */
export type RankPhotos = (word: string) => Promise<Array<{ id: string; score: number }>>;

/** Builds the ranking over the photos' kept text (one entry per photo, even when empty). */
export type RankerFactory = (texts: ReadonlyMap<string, string[]>) => Promise<RankPhotos>;

export interface OcrEvalOptions extends PaddleOcrOptions {
  /** Test photos (default all 1,000); distractors are seven times as many, at most 7,000. */
  limit?: number;
  /** Distractors (default 7 × the test photos, at most 7,000). */
  distractors?: number;
  seed?: number;
  /** Confidence threshold the headline figures use (default the reader's TEXT_MIN_SCORE). */
  minScore?: number;
  /** Generate the images into this folder and keep them (default: a temporary folder). */
  keep?: string;
  /** Keep every image's reading in this file (JSON lines) and reuse it on the next run with the same settings. */
  readsCache?: string;
  /** How photos are ranked for a word (default: search's printed-text scoring, printedRanker). */
  ranker?: RankerFactory;
  onProgress?: (phase: string, done: number, total: number) => void;
}

interface Figures {
  images: number;
  /** Mean over words of 1 − edit distance / word length (best-matching token read, 0 when none). */
  charAccuracy: number;
  /** Share of words read exactly (case aside). */
  exact: number;
  /** Share of words whose photo ranks first among all photos when searching the word. */
  r1: number;
}

export interface OcrEvalReport {
  protocol: string;
  reader: string;
  minScore: number;
  /** The reader's settings (detector input size, thresholds, crop margin). */
  settings: PaddleOcr['settings'];
  testImages: number;
  distractors: number;
  bands: Array<Figures & { band: string }>;
  all: Figures;
  /** Words 20 px and larger: the target is R@1 ≥ 0.90. */
  atLeast20px: Figures;
  /** R@1 when only a token read exactly matches the word (no stemming, no near misses), for comparison. */
  exactTokens: { r1: number; r1AtLeast20px: number };
  /** Share of distractor photos with any text kept: real text in them counts too (the target ≤ 0.02 is for invented text). */
  falseTextRate: number;
  /** The most confident text read on distractors, for looking at. */
  falseTextExamples: Array<{ photo: string; text: string; score: number }>;
  /** Each threshold's false-text rate and R@1 (all words and words ≥ 20 px). */
  sweep: Array<{ minScore: number; falseTextRate: number; r1: number; r1AtLeast20px: number; charAccuracy: number }>;
  /** Wall time per image (inflated when other work shares the cores) … */
  ms: { det: number; rec: number; total: number; testTotal: number; distractorTotal: number; p95: number };
  /** … and CPU time per image, over the images read in this run (cached readings may lack it). */
  cpuMs: { det: number; rec: number; images: number } | null;
  seconds: { generate: number; read: number; total: number };
}

const SWEEP = [0.5, 0.6, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95];

/** A rendered image's id, the same from run to run (its file lies in a temporary folder). */
export const renderedId = (t: RenderedWord) => `rendered/${path.basename(t.file)}`;

/** Lower-case letter and digit runs: the tokens words are matched on. */
export function tokens(text: string): string[] {
  return text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [];
}

/** Exact token matching (for comparison): photos whose text has the word as a token, BM25 (shorter texts first) among them. */
export const tokenRanker: RankerFactory = async (texts) => {
  const docs = new Map<string, string[]>();
  const df = new Map<string, number>();
  let totalLen = 0;
  for (const [id, lines] of texts) {
    const toks = lines.flatMap(tokens);
    docs.set(id, toks);
    totalLen += toks.length;
    for (const t of new Set(toks)) df.set(t, (df.get(t) ?? 0) + 1);
  }
  const avg = totalLen / Math.max(1, docs.size) || 1;
  const postings = new Map<string, string[]>();
  for (const [id, toks] of docs) {
    for (const t of new Set(toks)) {
      const list = postings.get(t);
      if (list) list.push(id);
      else postings.set(t, [id]);
    }
  }
  const k1 = 1.2;
  const b = 0.75;
  return async (word) => {
    const w = word.toLowerCase();
    const n = df.get(w) ?? 0;
    const idf = Math.log(1 + (docs.size - n + 0.5) / (n + 0.5));
    return (postings.get(w) ?? [])
      .map((id) => {
        const toks = docs.get(id)!;
        const tf = toks.filter((t) => t === w).length;
        return { id, score: (idf * tf * (k1 + 1)) / (tf + k1 * (1 - b + (b * toks.length) / avg)) };
      })
      .sort((x, y) => y.score - x.score);
  };
};

/** The default ranking: the printed-text signal of search (stemmed BM25, near misses of a word at a lower score) over the kept text. */
export const printedRanker: RankerFactory = async (texts) => {
  const ids = [...texts.keys()];
  const rows = ids.map((id) => ({
    stages: { text: 'ppocr-v4' },
    width: 0,
    height: 0,
    text: texts.get(id)!.map((t) => ({ text: t, score: 1, box: [0, 0, 0, 0] as [number, number, number, number] })),
  }));
  return async (word) => {
    const scores = printedScores(rows, [word]);
    if (!scores) return [];
    return ids
      .map((id, i) => ({ id, score: scores[i]! }))
      .filter((h) => h.score > 0)
      .sort((a, b) => b.score - a.score);
  };
};

function quantile(xs: number[], q: number): number {
  if (!xs.length) return 0;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))]!;
}

const mean = (xs: number[]) => (xs.length ? xs.reduce((s, v) => s + v, 0) / xs.length : 0);

const hasText = (l: ReadLine, minScore: number) => keepTextLine(l.text, l.score, minScore);

/** Reads one image file: its lines with no threshold, and the time detection and recognition took. */
export type ReadFile = (file: string) => Promise<Omit<ImageRead, 'id'>>;

/** The PaddleOCR reader as a ReadFile (decoding is not timed: the index decodes once for every stage). */
export function paddleReadFile(ocr: PaddleOcr): ReadFile {
  return async (file) => {
    const { data, info } = await sharp(file).removeAlpha().raw().toBuffer({ resolveWithObject: true });
    const lines = await ocr.read(new Uint8Array(data.buffer, data.byteOffset, data.length), info.width, info.height);
    return { lines: lines.map((l) => ({ text: l.text, score: l.score })), ...ocr.lastTimings };
  };
}

/**
 * Reads every image with no threshold, one at a time (one inference thread, as at index
 * time). With a cache file (JSON lines), reads made before with the same settings are reused
 * and new ones appended as they are made, so a long run can stop, resume, or be scored early.
 */
export async function readAll(
  read: ReadFile,
  files: Array<{ id: string; file: string }>,
  onProgress?: (done: number, total: number) => void,
  cache?: { file: string; settings: unknown },
): Promise<ImageRead[]> {
  const settings = JSON.stringify(cache?.settings ?? null);
  const known = new Map<string, ImageRead>();
  if (cache && fs.existsSync(cache.file)) {
    for (const line of fs.readFileSync(cache.file, 'utf8').split('\n')) {
      if (!line.trim()) continue;
      const r = JSON.parse(line) as ImageRead & { settings: string };
      if (r.settings === settings) known.set(r.id, { id: r.id, lines: r.lines, detMs: r.detMs, recMs: r.recMs, detCpuMs: r.detCpuMs, recCpuMs: r.recCpuMs });
    }
  }
  const reads: ImageRead[] = [];
  for (const [i, f] of files.entries()) {
    let r = known.get(f.id);
    if (!r) {
      r = { id: f.id, ...(await read(f.file)) };
      if (cache) fs.appendFileSync(cache.file, `${JSON.stringify({ settings, ...r })}\n`);
    }
    reads.push(r);
    onProgress?.(i + 1, files.length);
  }
  return reads;
}

/** The figures of one threshold over reads already made. */
export async function scoreReads(truth: RenderedWord[], reads: ImageRead[], minScore: number, ranker: RankerFactory) {
  const texts = new Map<string, string[]>();
  for (const r of reads)
    texts.set(
      r.id,
      r.lines.filter((l) => hasText(l, minScore)).map((l) => l.text),
    );
  const rank = await ranker(texts);
  const per = await Promise.all(
    truth.map(async (t) => {
      const toks = (texts.get(renderedId(t)) ?? []).flatMap(tokens);
      const best = toks.length ? Math.min(...toks.map((x) => editDistance(x, t.word))) : t.word.length;
      const hits = await rank(t.word);
      const r1 = hits.length > 0 && hits[0]!.id === renderedId(t) && (hits.length < 2 || hits[1]!.score < hits[0]!.score);
      return { t, acc: Math.max(0, 1 - best / t.word.length), exact: best === 0, r1 };
    }),
  );
  const figures = (rows: typeof per): Figures => ({
    images: rows.length,
    charAccuracy: mean(rows.map((r) => r.acc)),
    exact: mean(rows.map((r) => (r.exact ? 1 : 0))),
    r1: mean(rows.map((r) => (r.r1 ? 1 : 0))),
  });
  const isTest = new Set(truth.map(renderedId));
  const distractors = reads.filter((r) => !isTest.has(r.id));
  const falseText = distractors.filter((r) => r.lines.some((l) => hasText(l, minScore)));
  return {
    bands: SIZE_BANDS.map((b) => ({ band: b.name, ...figures(per.filter((r) => r.t.band === b.name)) })),
    all: figures(per),
    atLeast20px: figures(per.filter((r) => r.t.size >= 20)),
    falseTextRate: distractors.length ? falseText.length / distractors.length : 0,
  };
}

export async function evalOcr(opts: OcrEvalOptions = {}): Promise<OcrEvalReport> {
  const started = performance.now();
  const minScore = opts.minScore ?? TEXT_MIN_SCORE;
  const test = loadFlickr8k('test').images.map((i) => i.path);
  const nTest = Math.min(test.length, opts.limit ?? test.length);
  const pool = [...loadFlickr8k('train').images, ...loadFlickr8k('dev').images].map((i) => i.path);
  const nDistract = Math.min(pool.length, opts.distractors ?? Math.min(pool.length, 7 * nTest));
  const tmp = opts.keep ? null : fs.mkdtempSync(path.join(os.tmpdir(), 'visor-eval-ocr-'));
  const dir = opts.keep ?? tmp!;
  try {
    const truth = await generateOcrBenchmark(test.slice(0, nTest), dir, opts.seed ?? 1, (d, t) => opts.onProgress?.('rendering words', d, t));
    const generated = performance.now();
    const ocr = await PaddleOcr.load(opts);
    const files = [...truth.map((t) => ({ id: renderedId(t), file: t.file })), ...pool.slice(0, nDistract).map((p) => ({ id: p, file: p }))];
    let reads: ImageRead[];
    try {
      const settings = { seed: opts.seed ?? 1, ...ocr.settings };
      reads = await readAll(
        paddleReadFile(ocr),
        files,
        (d, t) => opts.onProgress?.('reading', d, t),
        opts.readsCache ? { file: opts.readsCache, settings } : undefined,
      );
    } finally {
      await ocr.close();
    }
    const read = performance.now();
    const ranker = opts.ranker ?? printedRanker;
    const head = await scoreReads(truth, reads, minScore, ranker);
    const tokens = await scoreReads(truth, reads, minScore, tokenRanker);
    const sweep = [];
    for (const s of SWEEP) {
      const f = await scoreReads(truth, reads, s, ranker);
      sweep.push({ minScore: s, falseTextRate: f.falseTextRate, r1: f.all.r1, r1AtLeast20px: f.atLeast20px.r1, charAccuracy: f.all.charAccuracy });
    }
    const isTest = new Set(truth.map(renderedId));
    const examples = reads
      .filter((r) => !isTest.has(r.id))
      .flatMap((r) => r.lines.filter((l) => hasText(l, 0)).map((l) => ({ photo: path.basename(r.id), text: l.text, score: Math.round(l.score * 1000) / 1000 })))
      .sort((a, b) => b.score - a.score)
      .slice(0, 25);
    const totals = reads.map((r) => r.detMs + r.recMs);
    const timed = reads.filter((r) => r.detCpuMs !== undefined && r.recCpuMs !== undefined);
    return {
      protocol:
        'OCR benchmark: one WordNet noun rendered onto each Flickr8k test photo (8 DejaVu/Liberation fonts, 12–60 px, turned up to 15°, JPEG 50–90, a quarter on translucent labels); ' +
        'Flickr8k train+dev photos as distractors. R@1: searching the word ranks its photo first among all photos (a tie is a miss).',
      reader: 'ppocr-v4',
      minScore,
      settings: ocr.settings,
      testImages: truth.length,
      distractors: nDistract,
      ...head,
      exactTokens: { r1: tokens.all.r1, r1AtLeast20px: tokens.atLeast20px.r1 },
      falseTextExamples: examples,
      sweep,
      ms: {
        det: mean(reads.map((r) => r.detMs)),
        rec: mean(reads.map((r) => r.recMs)),
        total: mean(totals),
        testTotal: mean(reads.filter((r) => isTest.has(r.id)).map((r) => r.detMs + r.recMs)),
        distractorTotal: mean(reads.filter((r) => !isTest.has(r.id)).map((r) => r.detMs + r.recMs)),
        p95: quantile(totals, 0.95),
      },
      cpuMs: timed.length ? { det: mean(timed.map((r) => r.detCpuMs!)), rec: mean(timed.map((r) => r.recCpuMs!)), images: timed.length } : null,
      seconds: { generate: (generated - started) / 1000, read: (read - generated) / 1000, total: (performance.now() - started) / 1000 },
    };
  } finally {
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  }
}
