/**
 * npm run bench:index — indexing throughput on the 1,000 Flickr8k test images, in one run:
 *   model alone   inference on pre-decoded, pre-packed batches: one session on both cores,
 *                 inference threads spinning (its fastest setting), best of batch 8/16/32
 *   naive loop    one image at a time: read, decode, embed — no overlap, nothing stored
 *   pipeline      Collection.index(): read + hash + decode + preprocess + embed + store
 *   large photos  the pipeline on the same images re-encoded as 3000×2000 JPEGs
 *   re-index      `visor index` (the CLI) run twice on the same folder: cold, then unchanged
 * Ratios are taken within this one run; the machine's noise is ±10 %.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { Collection } from '../src/collection.js';
import { loadFlickr8k } from '../src/eval/datasets.js';
import { decodeForModel, DEFAULT_MAX_PIXELS } from '../src/image/decode.js';
import { MobileNetV2 } from '../src/models/mobilenet.js';

const root = path.resolve(import.meta.dirname, '..');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'visor-bench-index-'));
const limits = { maxPixels: DEFAULT_MAX_PIXELS };
const line = (label: string, value: string) => console.log(`${label.padEnd(44)} ${value}`);

function seconds(t0: number): number {
  return (performance.now() - t0) / 1000;
}

async function modelAlone(files: string[]): Promise<number> {
  const model = await MobileNetV2.load({ spinning: true });
  const pixels = await Promise.all(files.map(async (f) => (await decodeForModel(fs.readFileSync(f), 224, limits)).pixels));
  let best = 0;
  for (const batchSize of [8, 16, 32]) {
    const batches: Array<{ buf: Uint8Array; n: number }> = [];
    for (let i = 0; i < pixels.length; i += batchSize) {
      const n = Math.min(batchSize, pixels.length - i);
      const buf = model.newBatch(n);
      for (let j = 0; j < n; j++) model.pack(buf, j, pixels[i + j]!);
      batches.push({ buf, n });
    }
    await model.run(batches[0]!.buf, batches[0]!.n); // warm-up
    const t0 = performance.now();
    for (const b of batches) await model.run(b.buf, b.n);
    const rate = pixels.length / seconds(t0);
    line(`  model alone, batch ${batchSize}`, `${rate.toFixed(0)} images/s`);
    best = Math.max(best, rate);
  }
  await model.close();
  return best;
}

async function naiveLoop(files: string[]): Promise<number> {
  const model = await MobileNetV2.load({ spinning: true });
  const buf = model.newBatch(1);
  await model.run(buf, 1);
  const t0 = performance.now();
  for (const f of files) {
    const input = await decodeForModel(fs.readFileSync(f), 224, limits);
    model.pack(buf, 0, input.pixels);
    await model.run(buf, 1);
  }
  const rate = files.length / seconds(t0);
  await model.close();
  return rate;
}

async function pipeline(dir: string, label: string): Promise<{ rate: number; load: number }> {
  const db = path.join(tmp, `db-${label}`);
  const c = await Collection.open({ db, create: true });
  const t = performance.now();
  await c.warmUp(); // workers and their model loads timed apart: a server starts them once
  const load = seconds(t);
  const t0 = performance.now();
  const s = await c.index([dir]);
  const rate = s.indexed / seconds(t0);
  await c.close();
  if (s.indexed !== fs.readdirSync(dir).length) throw new Error(`${label}: indexed ${s.indexed}, skipped ${s.skipped.length}`);
  return { rate, load };
}

function cli(args: string[]): number {
  const t0 = performance.now();
  execFileSync(process.execPath, [path.join(root, 'dist/cli/main.js'), ...args], { cwd: root, stdio: ['ignore', 'ignore', 'inherit'] });
  return seconds(t0);
}

async function main(): Promise<void> {
  const files = loadFlickr8k('test').images.map((i) => i.path);
  const dir = path.join(tmp, 'flickr1k');
  fs.mkdirSync(dir);
  for (const f of files) fs.copyFileSync(f, path.join(dir, path.basename(f)));
  const copies = fs.readdirSync(dir).map((f) => path.join(dir, f));
  console.log(`Visor indexing benchmark: ${copies.length} Flickr8k test images (224×224 JPEG), ${os.availableParallelism()} cores, ${os.cpus()[0]?.model ?? ''}`);

  const model = await modelAlone(copies);
  line('model alone (best)', `${model.toFixed(0)} images/s`);
  const naive = await naiveLoop(copies);
  line('naive loop (one at a time, decode then embed)', `${naive.toFixed(0)} images/s`);
  const full = await pipeline(dir, 'small');
  line('full pipeline (decode+preprocess+embed+store)', `${full.rate.toFixed(0)} images/s   (worker start ${full.load.toFixed(2)} s, not included)`);
  line('  pipeline / model alone', `${(full.rate / model).toFixed(2)}   (target ≥ 0.75)`);
  line('  pipeline / naive loop', `${(full.rate / naive).toFixed(2)}   (target ≥ 1.2)`);

  const big = path.join(tmp, 'photos3000x2000');
  fs.mkdirSync(big);
  const t0 = performance.now();
  await Promise.all(
    [0, 1].map(async (w) => {
      for (let i = w; i < copies.length; i += 2) {
        await sharp(copies[i]!).resize(3000, 2000, { fit: 'fill' }).jpeg({ quality: 90 }).toFile(path.join(big, path.basename(copies[i]!)));
      }
    }),
  );
  line('  (made 3000×2000 copies in)', `${seconds(t0).toFixed(0)} s`);
  const large = await pipeline(big, 'large');
  line('full pipeline, 3000×2000 JPEGs', `${large.rate.toFixed(0)} images/s`);

  const cliDb = path.join(tmp, 'db-cli');
  const first = cli(['--db', cliDb, 'index', dir, '--progress', 'none']);
  const again = cli(['--db', cliDb, 'index', dir, '--progress', 'none']);
  line('visor index, first run (CLI, wall)', `${first.toFixed(2)} s`);
  line('visor index, unchanged re-run (CLI, wall)', `${again.toFixed(2)} s`);
  line('  re-run / first run', `${(again / first).toFixed(3)}   (target ≤ 0.10)`);
  fs.rmSync(tmp, { recursive: true, force: true });
}

await main();
