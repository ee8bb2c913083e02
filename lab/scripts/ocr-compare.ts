/**
 * Which reader of text in images Visor uses: PaddleOCR PP-OCRv4 (ONNX, the 'text' stage)
 * against Tesseract (tesseract.js 7, English LSTM data, sparse-text page mode), on the OCR
 * benchmark (words rendered onto Flickr8k test photos; train+dev photos as distractors).
 *
 *   npx tsx lab/scripts/ocr-compare.ts [--limit 200] [--distractors 400] [--readers ppocr,tess2,tess3]
 *     [--false-text 0.08] [--reads-dir dir] [--out report.json]
 *
 * Flickr8k photos carry real text (shirts, signs, numbers) that a good reader reads, so the
 * readers are compared at the same share of distractors with any text (--false-text), not at 2 %.
 * --reads-dir keeps each reader's readings (JSON lines, as `eval ocr --reads` does) for rescoring.
 *
 * Tesseract runs offline: its data comes from the installed @tesseract.js-data/eng package.
 */
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import sharp from 'sharp';
import Tesseract from 'tesseract.js';
import { PaddleOcr } from '../../src/models/ocr/paddle-ocr.js';
import { loadFlickr8k } from '../eval/datasets.js';
import { generateOcrBenchmark } from '../eval/ocr-bench.js';
import { paddleReadFile, readAll, renderedId, scoreReads, tokenRanker, type ImageRead, type ReadFile } from '../eval/ocr.js';

const { values } = parseArgs({
  options: {
    limit: { type: 'string', default: '200' },
    distractors: { type: 'string', default: '400' },
    readers: { type: 'string', default: 'ppocr,tess2,tess3' },
    'false-text': { type: 'string', default: '0.08' },
    'reads-dir': { type: 'string' },
    out: { type: 'string' },
  },
});
const nTest = Number(values.limit);
const nDistract = Number(values.distractors);

/** Tesseract on the image enlarged `scale` times (it wants letters at least ~20 px high), words with their confidence. */
async function tesseractReader(scale: number): Promise<{ read: ReadFile; close: () => Promise<unknown> }> {
  const data = path.join(path.dirname(createRequire(import.meta.url).resolve('@tesseract.js-data/eng')), '4.0.0_best_int');
  const cachePath = fs.mkdtempSync(path.join(os.tmpdir(), 'visor-tesseract-'));
  const worker = await Tesseract.createWorker('eng', Tesseract.OEM.LSTM_ONLY, { langPath: data, cachePath, gzip: true });
  await worker.setParameters({ tessedit_pageseg_mode: Tesseract.PSM.SPARSE_TEXT });
  return {
    read: async (file) => {
      const meta = await sharp(file).metadata();
      const png = await sharp(file)
        .resize(Math.round(meta.width! * scale), Math.round(meta.height! * scale), { kernel: 'cubic' })
        .png()
        .toBuffer();
      const t0 = performance.now();
      const c0 = process.cpuUsage();
      const r = await worker.recognize(png, {}, { blocks: true });
      const ms = performance.now() - t0;
      const c1 = process.cpuUsage(c0); // the worker thread runs in this process
      const cpu = (c1.user + c1.system) / 1000;
      const words = (r.data.blocks ?? []).flatMap((b) => b.paragraphs.flatMap((p) => p.lines.flatMap((l) => l.words)));
      // Tesseract detects and recognises in one pass: its time counts as recognition.
      return { lines: words.map((w) => ({ text: w.text, score: w.confidence / 100 })), detMs: 0, recMs: ms, detCpuMs: 0, recCpuMs: cpu };
    },
    close: async () => {
      await worker.terminate();
      fs.rmSync(cachePath, { recursive: true, force: true });
    },
  };
}

const falseTextTarget = Number(values['false-text']);

/** The lowest threshold (of a fine grid) with text on at most the target share of distractors. */
async function figuresAtTarget(truth: Awaited<ReturnType<typeof generateOcrBenchmark>>, reads: ImageRead[]) {
  let chosen = 1;
  for (let s = 0.3; s <= 0.99; s += 0.01) {
    const f = await scoreReads(truth, reads, s, tokenRanker);
    if (f.falseTextRate <= falseTextTarget) {
      chosen = s;
      break;
    }
  }
  return { minScore: Math.round(chosen * 100) / 100, ...(await scoreReads(truth, reads, chosen, tokenRanker)) };
}

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'visor-ocr-compare-'));
try {
  const truth = await generateOcrBenchmark(
    loadFlickr8k('test')
      .images.slice(0, nTest)
      .map((i) => i.path),
    dir,
    1,
  );
  const distractors = [...loadFlickr8k('train').images, ...loadFlickr8k('dev').images].slice(0, nDistract).map((i) => ({ id: i.path, file: i.path }));
  const files = [...truth.map((t) => ({ id: renderedId(t), file: t.file })), ...distractors];
  const results: Record<string, unknown> = {};
  type Reader = { read: ReadFile; close: () => Promise<unknown>; settings: unknown };
  const all: Record<string, [string, () => Promise<Reader>]> = {
    ppocr: [
      'ppocr-v4',
      async () => {
        const ocr = await PaddleOcr.load();
        // The same settings key as `eval ocr`, so its readings can be reused.
        return { read: paddleReadFile(ocr), close: () => ocr.close(), settings: { seed: 1, ...ocr.settings } };
      },
    ],
    tess2: ['tesseract-eng (×2)', async () => ({ ...(await tesseractReader(2)), settings: { seed: 1, tesseract: 2 } })],
    tess3: ['tesseract-eng (×3)', async () => ({ ...(await tesseractReader(3)), settings: { seed: 1, tesseract: 3 } })],
  };
  const readers = values.readers.split(',').map((k) => all[k.trim()]!);
  const sweepRows: string[][] = [['reader', 'threshold', 'false text', 'char acc', 'R@1 all', 'R@1 ≥20 px']];
  const rows: string[][] = [
    ['reader', 'threshold', 'false text', 'char acc', 'R@1 all', 'R@1 ≥20 px', ...(truth.length ? ['12–19', '20–29', '30–44', '45–60'] : []), 'ms/image'],
  ];
  for (const [name, make] of readers) {
    const r = await make();
    const started = performance.now();
    const cache = values['reads-dir'] ? { file: path.join(values['reads-dir'], `${name.replace(/[^a-z0-9-]+/gi, '_')}.jsonl`), settings: r.settings } : undefined;
    const reads = await readAll(r.read, files, (d, t) => process.stderr.write(`\r${name}: ${d}/${t}`), cache);
    process.stderr.write('\n');
    await r.close();
    const f = await figuresAtTarget(truth, reads);
    for (const t of [0.5, 0.6, 0.7, 0.8, 0.9]) {
      const g = await scoreReads(truth, reads, t, tokenRanker);
      sweepRows.push([name, t.toFixed(2), g.falseTextRate.toFixed(3), g.all.charAccuracy.toFixed(3), g.all.r1.toFixed(3), g.atLeast20px.r1.toFixed(3)]);
    }
    const ms = reads.reduce((s, x) => s + x.detMs + x.recMs, 0) / reads.length;
    const cpuMs = reads.reduce((s, x) => s + (x.detCpuMs ?? 0) + (x.recCpuMs ?? 0), 0) / reads.length;
    results[name] = { ...f, ms, cpuMs, seconds: (performance.now() - started) / 1000 };
    rows.push([
      name,
      f.minScore.toFixed(2),
      f.falseTextRate.toFixed(3),
      f.all.charAccuracy.toFixed(3),
      f.all.r1.toFixed(3),
      f.atLeast20px.r1.toFixed(3),
      ...f.bands.map((b) => b.r1.toFixed(2)),
      ms.toFixed(0),
      cpuMs.toFixed(0),
    ]);
  }
  const print = (t: string[][]) => {
    const widths = t[0]!.map((_, j) => Math.max(...t.map((r) => r[j]!.length)));
    for (const r of t) process.stdout.write(`${r.map((c, j) => c.padEnd(widths[j]!)).join('  ')}\n`);
  };
  process.stdout.write(
    `${nTest} photos with a word, ${nDistract} distractors; each reader at the lowest threshold with text on ≤ ${falseTextTarget} of distractors; R@1 per band in columns 12–19 … 45–60\n`,
  );
  print(rows);
  process.stdout.write('\nby threshold\n');
  print(sweepRows);
  if (values.out) fs.writeFileSync(values.out, `${JSON.stringify({ testImages: nTest, distractors: nDistract, results }, null, 2)}\n`);
} finally {
  fs.rmSync(dir, { recursive: true, force: true });
}
