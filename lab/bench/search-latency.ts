/**
 * npm run bench:search — query latency and recall of the ANN index at 10k, 100k and 1M vectors.
 *
 * Data: 1280-d vectors, the dimension the store keeps (MobileNetV2 pooled features). The
 * CIFAR-10 test images (10k) and Flickr8k test images (1k) are embedded with MobileNetV2; each
 * synthetic vector is normalize(w·x_a + (1−w)·x_b + σ·n) for two random real features x_a, x_b,
 * w ~ U(0.5, 1), σ = 0.1/√1280 per component (n Gaussian), from a seeded PRNG. Queries are 200
 * further mixtures, not in the store. (Plain noisy copies of real vectors make near-exact ties
 * on which every ANN configuration looks broken; random unit vectors have no neighbourhoods.)
 *
 * Per size, in a fresh store: write time (upserts of 20k items), ANN index build time
 * (LanceStore.buildAnnIndex, HNSW-SQ), then for each query store.search(q, {k: 10}) — the real
 * query path — timed after warm-up queries, and compared with the exact top 10 computed by the
 * store's exact kernel (ONNX Gemm + TopK) over the generated vectors. The exact query path
 * (store.search with exact: true) is timed too, for reference.
 *
 * Usage: npm run bench:search [-- 10000 100000]   (sizes; default 10k, 100k, 1M)
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadCifar10, loadFlickr8k } from '../eval/datasets.js';
import { decodeForModel, DEFAULT_MAX_PIXELS } from '../../src/image/decode.js';
import { MobileNetV2 } from '../../src/models/mobilenet.js';
import type { AnnSettings } from '../../src/store/lance-store.js';
import type { ItemWithVectors } from '../../src/store/types.js';
import { Rng } from '../random.js';
import { graphBench, type GraphBenchRow } from './graph-rerank.js';

// LanceDB warns on every query that selects columns without `_distance`; it reads its log level
// when loaded, so the store is imported only after this is set.
process.env.LANCEDB_LOG ??= 'error';
const { DEFAULT_ANN, LanceStore } = await import('../../src/store/lance-store.js');
const { ExactKernel } = await import('../../src/store/exact-kernel.js');

/**
 * The ANN settings Visor ships: the benchmark runs with exactly these, and DEFAULT_ANN in
 * src/store/lance-store.ts must hold the same values (checked below).
 */
const SHIPPED_ANN: Omit<AnnSettings, 'threshold'> = { rowsPerPartition: 20_000, nprobes: 12, ef: 40, refineFactor: 3 };

const DIM = 1280;
const CLASSES = 1000;
const IMAGE_MODEL = 'mobilenetv2-12-int8';
const SIZES = process.argv.slice(2).length > 0 ? process.argv.slice(2).map(Number) : [10_000, 100_000, 1_000_000];
const QUERIES = 200;
const WARMUP = 50;
const K = 10;
const WRITE_CHUNK = 20_000;
const EXACT_QUERIES = 50;
const SEED = 20240601;
const TARGET = { n: 1_000_000, recall: 0.95, p50Ms: 20, totalMin: 30 };

const started = performance.now();
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'visor-bench-search-'));
const seconds = (t0: number) => (performance.now() - t0) / 1000;
const log = (s: string) => console.log(s);

function percentile(values: number[], p: number): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(p * s.length))]!;
}

/** MobileNetV2 features of the CIFAR-10 and Flickr8k test images, n × 1280, L2-normalised. */
async function realFeatures(): Promise<Float32Array> {
  const files = [...loadCifar10().images.map((i) => i.path), ...loadFlickr8k('test').images.map((i) => i.path)];
  const model = await MobileNetV2.load({ spinning: false });
  const out = new Float32Array(files.length * DIM);
  const batch = 32;
  for (let i = 0; i < files.length; i += batch) {
    const n = Math.min(batch, files.length - i);
    const pixels = await Promise.all(
      files.slice(i, i + n).map(async (f) => (await decodeForModel(fs.readFileSync(f), model.inputSize, { maxPixels: DEFAULT_MAX_PIXELS })).pixels),
    );
    const buf = model.newBatch(n);
    pixels.forEach((p, j) => model.pack(buf, j, p));
    out.set((await model.run(buf, n)).features, i * DIM);
  }
  await model.close();
  return out;
}

/** `n` vectors normalize(w·x_a + (1−w)·x_b + σ·noise), x_a and x_b random rows of `real`. */
function mixtures(real: Float32Array, n: number, rng: Rng): Float32Array {
  const m = real.length / DIM;
  const sigma = 0.1 / Math.sqrt(DIM);
  const out = new Float32Array(n * DIM);
  for (let i = 0; i < n; i++) {
    const a = Math.floor(rng.next() * m) * DIM;
    const b = Math.floor(rng.next() * m) * DIM;
    const w = 0.5 + 0.5 * rng.next();
    const o = i * DIM;
    let norm = 0;
    for (let j = 0; j < DIM; j++) {
      const v = w * real[a + j]! + (1 - w) * real[b + j]! + sigma * rng.gauss();
      out[o + j] = v;
      norm += v * v;
    }
    const inv = 1 / Math.sqrt(norm);
    for (let j = 0; j < DIM; j++) out[o + j]! *= inv;
  }
  return out;
}

/** Row r of the data is stored under a 32-hex id that encodes r. */
const idOf = (row: number) => row.toString(16).padStart(32, '0');

function items(data: Float32Array, start: number, n: number, probs: Float32Array): ItemWithVectors[] {
  const out: ItemWithVectors[] = [];
  for (let r = start; r < start + n; r++) {
    const p = `/synthetic/${r}.jpg`;
    out.push({
      id: idOf(r),
      path: p,
      paths: [p],
      fileSizes: [0],
      fileMtimes: [0],
      width: 224,
      height: 224,
      format: 'jpeg',
      indexedAt: 0,
      meta: {},
      vector: data.subarray(r * DIM, (r + 1) * DIM),
      probs,
    });
  }
  return out;
}

interface Row {
  n: number;
  partitions: number;
  genS: number;
  writeS: number;
  buildS: number;
  annP50: number;
  annP95: number;
  recall: number;
  recallMin: number;
  exactP50: number;
  exactAgrees: number;
  graph?: GraphBenchRow;
  /** Seconds spent in the neighbour-graph part (its own figures; the ANN targets leave it out). */
  graphS: number;
}

async function runSize(n: number, real: Float32Array): Promise<Row> {
  let t0 = performance.now();
  const rng = new Rng(SEED + n);
  let data: Float32Array | null = mixtures(real, n, rng);
  const queries = mixtures(real, QUERIES + WARMUP, rng); // drawn after the data: none is stored
  const extra = mixtures(real, 1000, rng); // added after the graph is built, for its incremental update
  const genS = seconds(t0);

  const dir = path.join(tmp, `db-${n}`);
  const store = await LanceStore.open(dir, { dimension: DIM, numClasses: CLASSES, imageModel: IMAGE_MODEL, ann: SHIPPED_ANN });
  try {
    const probs = new Float32Array(CLASSES).fill(1 / CLASSES);
    t0 = performance.now();
    for (let s = 0; s < n; s += WRITE_CHUNK) await store.upsert(items(data, s, Math.min(WRITE_CHUNK, n - s), probs));
    const writeS = seconds(t0);

    t0 = performance.now();
    await store.buildAnnIndex();
    const buildS = seconds(t0);
    const stats = await store.stats();
    if (stats.annIndex?.indexedRows !== n) throw new Error(`ANN index covers ${stats.annIndex?.indexedRows ?? 0} of ${n} rows`);

    // Ground truth: the exact kernel over the generated vectors, all queries at once.
    const kernel = await ExactKernel.create();
    const truth = await kernel.topK(queries, QUERIES, data, n, new Float32Array(n), K);
    await kernel.close();
    data = null; // the store's exact cache, loaded below, is the only copy we need from here

    const query = (q: number) => queries.subarray(q * DIM, (q + 1) * DIM);
    const truthOf = (q: number, hits: ReadonlyArray<{ id: string }>) => {
      const want = new Set(Array.from(truth.rows.subarray(q * K, (q + 1) * K), idOf));
      return hits.filter((h) => want.has(h.id)).length / K;
    };

    for (let w = 0; w < WARMUP; w++) await store.search(query(QUERIES + w), { k: K });
    const annMs: number[] = [];
    const recalls: number[] = [];
    for (let q = 0; q < QUERIES; q++) {
      const t = performance.now();
      const hits = await store.search(query(q), { k: K });
      annMs.push(performance.now() - t);
      recalls.push(truthOf(q, hits));
    }

    // The exact path, for reference (its first call loads every vector into memory).
    await store.search(query(QUERIES), { k: K, exact: true });
    const exactMs: number[] = [];
    let agree = 0;
    for (let q = 0; q < EXACT_QUERIES; q++) {
      const t = performance.now();
      const hits = await store.search(query(q), { k: K, exact: true });
      exactMs.push(performance.now() - t);
      agree += truthOf(q, hits);
    }

    const graphStarted = performance.now();
    const graph =
      process.env.BENCH_GRAPH === '0'
        ? undefined
        : await graphBench(
            store,
            n,
            () => items(extra, 0, 1000, probs).map((it, i) => ({ ...it, id: idOf(n + i), path: `/synthetic/${n + i}.jpg`, paths: [`/synthetic/${n + i}.jpg`] })),
            {
              fullBuildMax: Number(process.env.BENCH_GRAPH_FULL_MAX ?? 200_000),
              sample: 5_000,
              queries: 100,
              log,
              ...(process.env.BENCH_RERANK_DEPTH ? { depth: Number(process.env.BENCH_RERANK_DEPTH) } : {}),
            },
          );
    const graphS = seconds(graphStarted);
    return {
      graph,
      graphS,
      n,
      partitions: Math.max(1, Math.round(n / SHIPPED_ANN.rowsPerPartition)),
      genS,
      writeS,
      buildS,
      annP50: percentile(annMs, 0.5),
      annP95: percentile(annMs, 0.95),
      recall: recalls.reduce((a, b) => a + b, 0) / QUERIES,
      recallMin: Math.min(...recalls),
      exactP50: percentile(exactMs, 0.5),
      exactAgrees: agree / EXACT_QUERIES,
    };
  } finally {
    await store.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  log(`Visor search benchmark: ${os.availableParallelism()} cores, ${os.cpus()[0]?.model ?? ''}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB`);
  log(
    `ANN (shipped settings): HNSW-SQ, cosine, partitions = rows / ${SHIPPED_ANN.rowsPerPartition}, ` +
      `nprobes ${SHIPPED_ANN.nprobes}, ef ${SHIPPED_ANN.ef}, refineFactor ${SHIPPED_ANN.refineFactor}`,
  );
  const mismatched = (Object.keys(SHIPPED_ANN) as Array<keyof typeof SHIPPED_ANN>).filter((key) => DEFAULT_ANN[key] !== SHIPPED_ANN[key]);
  if (mismatched.length > 0) {
    log(
      `  NOTE: DEFAULT_ANN in src/store/lance-store.ts differs (${mismatched.map((key) => `${key} ${DEFAULT_ANN[key]}`).join(', ')}): the product does not ship these settings yet`,
    );
  }

  let t0 = performance.now();
  const real = await realFeatures();
  // Kept for this run only, in the benchmark's temp folder.
  fs.writeFileSync(path.join(tmp, 'real-features.f32'), new Uint8Array(real.buffer, real.byteOffset, real.byteLength));
  log(`Real features: ${real.length / DIM} images (CIFAR-10 test 10k + Flickr8k test 1k) embedded with MobileNetV2 in ${seconds(t0).toFixed(1)} s`);
  log(
    `Data: ${DIM}-d vectors, mixtures of two real MobileNetV2 features + small Gaussian noise, seeded ` +
      `(normalize(w·x_a + (1−w)·x_b + σ·n), w ~ U(0.5,1), σ = 0.1/√${DIM}); ${QUERIES} held-out query mixtures per size`,
  );
  log(
    `Recall@${K}: against the exact top ${K} (ONNX Gemm+TopK kernel over the same vectors); latency: store.search(q, {k: ${K}}), one query at a time, after ${WARMUP} warm-up queries`,
  );
  log('');

  const rows: Row[] = [];
  for (const n of SIZES) {
    t0 = performance.now();
    const r = await runSize(n, real);
    rows.push(r);
    log(
      `${n.toLocaleString('en-US')} vectors: generated ${r.genS.toFixed(1)} s, written ${r.writeS.toFixed(1)} s, index ${r.buildS.toFixed(1)} s ` +
        `(${r.partitions} partition${r.partitions === 1 ? '' : 's'}), ANN p50 ${r.annP50.toFixed(1)} ms, recall@${K} ${r.recall.toFixed(3)}; ` +
        `exact p50 ${r.exactP50.toFixed(1)} ms (agrees with ground truth: ${r.exactAgrees.toFixed(3)}); ${seconds(t0).toFixed(0)} s in all`,
    );
  }

  const fmt = (v: number, w: number, d = 1) => v.toFixed(d).padStart(w);
  log('');
  log(
    `${'N'.padStart(9)} ${'parts'.padStart(5)} ${'write s'.padStart(8)} ${'build s'.padStart(8)} ${'ANN p50'.padStart(8)} ${'ANN p95'.padStart(8)} ${'recall@10'.padStart(9)} ${'(min)'.padStart(5)} ${'exact p50'.padStart(9)}`,
  );
  for (const r of rows) {
    log(
      `${r.n.toLocaleString('en-US').padStart(9)} ${String(r.partitions).padStart(5)} ${fmt(r.writeS, 8)} ${fmt(r.buildS, 8)} ${fmt(r.annP50, 8)} ${fmt(r.annP95, 8)} ` +
        `${fmt(r.recall, 9, 3)} ${fmt(r.recallMin, 5, 1)} ${fmt(r.exactP50, 9)}`,
    );
  }
  log(
    '(latencies in ms; exact p50 over the first 50 queries. Below DEFAULT_ANN.threshold items the product searches exactly; the 10k ANN row is for reference.)',
  );
  const allMin = seconds(started) / 60;
  const graphS = rows.reduce((a, r) => a + r.graphS, 0);
  const totalMin = allMin - graphS / 60;
  log(`Total runtime: ${allMin.toFixed(1)} min (${totalMin.toFixed(1)} min without the neighbour-graph part, ${(graphS / 60).toFixed(1)} min)`);
  const big = rows.find((r) => r.n === TARGET.n);
  if (big) {
    const ok = big.recall >= TARGET.recall && big.annP50 <= TARGET.p50Ms && totalMin <= TARGET.totalMin;
    log(
      `${ok ? 'PASS' : 'SHORT'}: at 1M recall@10 ${big.recall.toFixed(3)} (target ≥ ${TARGET.recall}), p50 ${big.annP50.toFixed(1)} ms (target ≤ ${TARGET.p50Ms}), ` +
        `total without the graph part ${totalMin.toFixed(1)} min (target ≤ ${TARGET.totalMin})`,
    );
  } else {
    log('(1M not run: no PASS/SHORT verdict)');
  }
}

try {
  await main();
} finally {
  fs.rmSync(tmp, { recursive: true, force: true });
}
