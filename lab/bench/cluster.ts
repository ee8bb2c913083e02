/**
 * npm run bench:cluster — a collection sharded in object storage (the test rig's Ceph) against the
 * same vectors in one local index: query latency warm and cold, a query node's memory, write
 * time, distributed ingest rate, and the rig and machine it ran on.
 *
 * Data: N (default 100k) 1280-d vectors with 1000 class probabilities, made as bench:search
 * makes them: MobileNetV2 features (and class probabilities) of the CIFAR-10 and Flickr8k test
 * images, each item normalize(w·x_a + (1−w)·x_b + σ·n) of two random real features (its
 * probabilities w·p_a + (1−w)·p_b), from a seeded PRNG; queries are further mixtures from
 * another seed (none is stored). Written with the store port (openStore) in chunks, then
 * optimized as `visor index` leaves a collection (compaction, keyword index, and an ANN index
 * where a store holds enough rows: the local one at 100k does, a shard of 25k does not).
 *
 * Queries: the image query path of the search pipeline (store.search top 10, then the page's
 * records hydrated), each store in a child process of its own: the first query of a fresh
 * process that opens the collection (a new node's time to first answer), then warm-up queries,
 * then timed ones; the child's peak resident memory is read at the end.
 *
 * Ingest: `visor index --queue` with 1 and 2 `visor worker` processes of one embedding thread each, on the
 * first --images (default 1,000) Flickr8k test images, timed from the start of the workers to the end of the job.
 *
 * Usage: npm run bench:cluster [-- --n 100000 --shards 4 --queries 200 --reuse]
 *   --reuse  keep the collection and local index written by an earlier run of the same seed and
 *            size (at s3://<bucket>/bench-cluster-<seed>-<n> and in the temp folder), and the
 *            embedded real features, so a rerun measures queries only.
 */
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { decodeForModel, DEFAULT_MAX_PIXELS } from '../../src/image/decode.js';
import { MobileNetV2 } from '../../src/models/mobilenet.js';
import type { VectorStore } from '../../src/store/port.js';
import type { ItemWithVectors } from '../../src/store/types.js';
import { loadCifar10, loadFlickr8k } from '../eval/datasets.js';
import { Rng } from '../random.js';

process.env.LANCEDB_LOG ??= 'error';

const ROOT = path.resolve(import.meta.dirname, '..', '..');
const DIM = 1280;
const CLASSES = 1000;
const IMAGE_MODEL = 'mobilenetv2-12-int8';
const SEED = 20240601;
const K = 10;
const WARMUP = 30;
const WRITE_CHUNK = 10_000;
const TARGET_RATIO = 2;
const RIG_DIR = process.env.VISOR_CLUSTER_DIR ?? '/tmp/visor-cluster';
const CACHE = path.join(os.tmpdir(), 'visor-bench-cluster');

const { values: opt } = parseArgs({
  options: {
    n: { type: 'string', default: '100000' },
    shards: { type: 'string', default: '4' },
    queries: { type: 'string', default: '200' },
    images: { type: 'string', default: '1000' },
    reuse: { type: 'boolean', default: false },
    child: { type: 'string' },
    db: { type: 'string' },
  },
});
const N = Number(opt.n);
const SHARDS = Number(opt.shards);
const QUERIES = Number(opt.queries);

interface Rig {
  endpoint: string;
  region: string;
  accessKeyId: string;
  secretAccessKey: string;
  bucket: string;
  nats: string;
}

/** The rig scripts/cluster/start.sh runs; its settings go into this process's environment, as a node's would be. */
function rig(): Rig {
  const file = path.join(RIG_DIR, 'env.json');
  if (!fs.existsSync(file)) throw new Error(`no cluster running (${file} missing): start it with 'bash scripts/cluster/start.sh'`);
  const r = JSON.parse(fs.readFileSync(file, 'utf8')) as Rig;
  Object.assign(process.env, {
    AWS_ENDPOINT_URL: r.endpoint,
    AWS_REGION: r.region,
    AWS_ACCESS_KEY_ID: r.accessKeyId,
    AWS_SECRET_ACCESS_KEY: r.secretAccessKey,
    AWS_ALLOW_HTTP: 'true',
    VISOR_QUEUE: r.nats,
  });
  return r;
}

const seconds = (t0: number) => (performance.now() - t0) / 1000;
const log = (s: string) => console.log(s);
const percentile = (values: number[], p: number) => [...values].sort((a, b) => a - b)[Math.min(values.length - 1, Math.floor(p * values.length))]!;
const queriesFile = () => path.join(CACHE, `queries-${SEED}-${QUERIES + WARMUP + 1}.f32`);

// --- Data ---

/** MobileNetV2 features and class probabilities of the CIFAR-10 and Flickr8k test images (kept in the temp folder between runs). */
async function realFeatures(): Promise<{ features: Float32Array; probs: Float32Array }> {
  const ff = path.join(CACHE, 'real-features.f32');
  const pf = path.join(CACHE, 'real-probs.f32');
  if (fs.existsSync(ff) && fs.existsSync(pf)) return { features: readF32(ff), probs: readF32(pf) };
  const files = [...loadCifar10().images.map((i) => i.path), ...loadFlickr8k('test').images.map((i) => i.path)];
  const model = await MobileNetV2.load({ spinning: false });
  const features = new Float32Array(files.length * DIM);
  const probs = new Float32Array(files.length * CLASSES);
  for (let i = 0; i < files.length; i += 32) {
    const n = Math.min(32, files.length - i);
    const pixels = await Promise.all(
      files.slice(i, i + n).map(async (f) => (await decodeForModel(fs.readFileSync(f), model.inputSize, { maxPixels: DEFAULT_MAX_PIXELS })).pixels),
    );
    const buf = model.newBatch(n);
    pixels.forEach((p, j) => model.pack(buf, j, p));
    const out = await model.run(buf, n);
    features.set(out.features, i * DIM);
    probs.set(out.probs, i * CLASSES);
  }
  await model.close();
  writeF32(ff, features);
  writeF32(pf, probs);
  return { features, probs };
}

function readF32(file: string): Float32Array {
  const b = fs.readFileSync(file);
  return new Float32Array(b.buffer, b.byteOffset, b.byteLength / 4);
}

function writeF32(file: string, a: Float32Array): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, new Uint8Array(a.buffer, a.byteOffset, a.byteLength));
}

/** `n` mixtures of two random real items (vectors normalised, probabilities mixed alike), drawn from `rng`. */
function mixtures(real: { features: Float32Array; probs: Float32Array }, n: number, rng: Rng): { vectors: Float32Array; probs: Float32Array } {
  const m = real.features.length / DIM;
  const sigma = 0.1 / Math.sqrt(DIM);
  const vectors = new Float32Array(n * DIM);
  const probs = new Float32Array(n * CLASSES);
  for (let i = 0; i < n; i++) {
    const a = Math.floor(rng.next() * m);
    const b = Math.floor(rng.next() * m);
    const w = 0.5 + 0.5 * rng.next();
    const o = i * DIM;
    let norm = 0;
    for (let j = 0; j < DIM; j++) {
      const v = w * real.features[a * DIM + j]! + (1 - w) * real.features[b * DIM + j]! + sigma * rng.gauss();
      vectors[o + j] = v;
      norm += v * v;
    }
    const inv = 1 / Math.sqrt(norm);
    for (let j = 0; j < DIM; j++) vectors[o + j]! *= inv;
    for (let c = 0; c < CLASSES; c++) probs[i * CLASSES + c] = w * real.probs[a * CLASSES + c]! + (1 - w) * real.probs[b * CLASSES + c]!;
  }
  return { vectors, probs };
}

/** Row r is stored under a content-id-like 64-hex id: a hash spreads rows evenly over the shards, as content ids do. */
function idOf(row: number): string {
  let h = (row + 1) * 0x9e3779b1;
  let s = '';
  for (let i = 0; i < 8; i++) {
    h = Math.imul(h ^ (h >>> 15), 0x85ebca6b) ^ Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
    s += (h >>> 0).toString(16).padStart(8, '0');
  }
  return s;
}

function items(start: number, part: { vectors: Float32Array; probs: Float32Array }): ItemWithVectors[] {
  const n = part.vectors.length / DIM;
  return Array.from({ length: n }, (_, i) => {
    const p = `/synthetic/${start + i}.jpg`;
    return {
      id: idOf(start + i),
      path: p,
      paths: [p],
      fileSizes: [0],
      fileMtimes: [0],
      width: 224,
      height: 224,
      format: 'jpeg',
      indexedAt: 0,
      meta: {},
      vector: part.vectors.subarray(i * DIM, (i + 1) * DIM),
      probs: part.probs.subarray(i * CLASSES, (i + 1) * CLASSES),
    };
  });
}

async function open(db: string, create: boolean, withLeases: boolean): Promise<VectorStore> {
  const { openStore } = await import('../../src/store/index.js');
  const remote = db.startsWith('s3://');
  let leases;
  if (remote && withLeases) {
    const [{ connectQueue }, { NatsLeases }] = await Promise.all([import('../../src/queue/connect.js'), import('../../src/queue/nats-lease.js')]);
    leases = await NatsLeases.open(await connectQueue(process.env.VISOR_QUEUE!), db, true);
  }
  return openStore(db, {
    dimension: DIM,
    numClasses: CLASSES,
    imageModel: IMAGE_MODEL,
    create,
    ...(remote ? { shards: create ? SHARDS : undefined, leases } : {}),
  });
}

/** Writes the N items to `db` (chunk by chunk, the same rows every time) and optimizes; seconds each took. */
async function fill(db: string, real: { features: Float32Array; probs: Float32Array }): Promise<{ writeS: number; optimizeS: number }> {
  const store = await open(db, true, true);
  try {
    const rng = new Rng(SEED + N);
    let writeS = 0;
    for (let s = 0; s < N; s += WRITE_CHUNK) {
      const part = items(s, mixtures(real, Math.min(WRITE_CHUNK, N - s), rng));
      const t0 = performance.now();
      await store.insert(part);
      writeS += seconds(t0);
    }
    const t0 = performance.now();
    await store.optimize();
    return { writeS, optimizeS: seconds(t0) };
  } finally {
    await store.close();
  }
}

/** Whether `db` holds the N items of an earlier run. */
async function holdsAll(db: string): Promise<boolean> {
  try {
    const store = await open(db, false, false);
    try {
      return (await store.count()) === N;
    } finally {
      await store.close();
    }
  } catch {
    return false;
  }
}

/** Deletes every object under the prefix (a partial collection of an interrupted run). */
async function clearPrefix(db: string): Promise<void> {
  const [{ parseLocation, objectKey }, { S3Objects }, { resolvePaths }] = await Promise.all([
    import('../../src/store/location.js'),
    import('../../src/store/s3/s3-objects.js'),
    import('../../src/config.js'),
  ]);
  const loc = parseLocation(db, resolvePaths().s3);
  if (loc.kind !== 's3') return;
  const objects = new S3Objects(loc);
  try {
    for (const o of await objects.list(objectKey(loc, ''))) await objects.delete(o.key);
  } finally {
    objects.close();
  }
}

// --- A query node (child process) ---

interface NodeFigures {
  openMs: number;
  firstMs: number;
  /** From the process's start to the first answer (module loading included). */
  sinceStartMs: number;
  p50: number;
  p95: number;
  searchP50: number;
  hydrateP50: number;
  maxRssMiB: number;
  path: string;
}

async function queryNode(db: string): Promise<void> {
  const { hydrate } = await import('../../src/search/results.js');
  const queries = readF32(queriesFile());
  const q = (i: number) => queries.subarray(i * DIM, (i + 1) * DIM);
  const t0 = performance.now();
  const store = await open(db, false, false);
  const openMs = performance.now() - t0;
  const one = async (i: number) => {
    const a = performance.now();
    const hits = await store.search(q(i), { k: K });
    const b = performance.now();
    const page = await hydrate(store, hits);
    if (page.length !== K) throw new Error(`query ${i}: ${page.length} results`);
    const c = performance.now();
    return { total: c - a, search: b - a, hydrate: c - b };
  };
  await one(0);
  const firstMs = performance.now() - t0;
  const sinceStartMs = performance.now();
  for (let w = 0; w < WARMUP; w++) await one(1 + w);
  const runs = [];
  for (let i = 0; i < QUERIES; i++) runs.push(await one(1 + WARMUP + i));
  const stats = await store.stats();
  await store.close();
  const out: NodeFigures = {
    openMs,
    firstMs,
    sinceStartMs,
    p50: percentile(
      runs.map((r) => r.total),
      0.5,
    ),
    p95: percentile(
      runs.map((r) => r.total),
      0.95,
    ),
    searchP50: percentile(
      runs.map((r) => r.search),
      0.5,
    ),
    hydrateP50: percentile(
      runs.map((r) => r.hydrate),
      0.5,
    ),
    maxRssMiB: process.resourceUsage().maxRSS / 1024,
    path: stats.annIndex && stats.annIndex.unindexedRows === 0 ? 'ANN' : 'exact',
  };
  process.stdout.write(`FIGURES ${JSON.stringify(out)}\n`);
}

function runNode(db: string): Promise<NodeFigures> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...process.execArgv, import.meta.filename, '--child', 'query', '--db', db, '--queries', String(QUERIES)], {
      env: process.env,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.once('error', reject);
    child.once('exit', (code) => {
      const line = out.split('\n').find((l) => l.startsWith('FIGURES '));
      if (code !== 0 || !line) reject(new Error(`query node for ${db} exited with ${code}: ${out.slice(-2000)}`));
      else resolve(JSON.parse(line.slice('FIGURES '.length)) as NodeFigures);
    });
  });
}

// --- Distributed ingest ---

/** Images/s of `visor index --queue` with `workers` `visor worker` processes, or null where this build has no distributed ingest. */
async function ingest(r: Rig, workers: number, images: string[]): Promise<number | null> {
  const cli = path.join(ROOT, 'dist', 'src', 'cli', 'main.js');
  if (!fs.existsSync(path.join(ROOT, 'dist', 'src', 'cli', 'commands', 'worker-cmd.js'))) return null;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'visor-bench-ingest-'));
  for (const f of images) fs.symlinkSync(f, path.join(dir, path.basename(f)));
  const db = `s3://${r.bucket}/bench-ingest-${Date.now().toString(36)}-${workers}`;
  const procs = Array.from({ length: workers }, () =>
    spawn(process.execPath, [cli, 'worker', '--db', db, '--queue', r.nats, '--threads', '1'], { env: process.env, stdio: ['ignore', 'ignore', 'inherit'] }),
  );
  try {
    const t0 = performance.now();
    execFileSync(process.execPath, [cli, 'index', dir, '--db', db, '--queue', r.nats], { env: process.env, stdio: ['ignore', 'ignore', 'inherit'] });
    return images.length / seconds(t0);
  } finally {
    for (const p of procs) p.kill();
    fs.rmSync(dir, { recursive: true, force: true });
    await clearPrefix(db);
  }
}

// --- The run ---

function osdCount(): string {
  try {
    const out = execFileSync('ceph', ['-c', path.join(RIG_DIR, 'ceph.conf'), 'osd', 'ls'], { encoding: 'utf8', timeout: 15_000 });
    return String(out.trim().split('\n').filter(Boolean).length);
  } catch {
    const f = path.join(RIG_DIR, 'osds');
    return fs.existsSync(f) ? `${fs.readFileSync(f, 'utf8').trim()} (from ${f})` : 'unknown';
  }
}

async function main(): Promise<void> {
  const r = rig();
  const started = performance.now();
  log(`Visor cluster benchmark: ${os.availableParallelism()} cores, ${os.cpus()[0]?.model ?? ''}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB`);
  log(`Rig: Ceph radosgw at ${r.endpoint} (bucket ${r.bucket}), ${osdCount()} OSDs; NATS at ${r.nats}`);
  const s3db = `s3://${r.bucket}/bench-cluster-${SEED}-${N}`;
  const localDb = path.join(CACHE, `local-${SEED}-${N}`);
  log(
    `Data: ${N.toLocaleString('en-US')} items (${DIM}-d vectors + ${CLASSES} class probabilities, seeded mixtures of real MobileNetV2 outputs); ${SHARDS} shards at ${s3db}`,
  );

  let t0 = performance.now();
  const real = await realFeatures();
  log(`Real features: ${real.features.length / DIM} images in ${seconds(t0).toFixed(1)} s`);
  writeF32(queriesFile(), mixtures(real, QUERIES + WARMUP + 1, new Rng(SEED + 1)).vectors);

  for (const [name, db] of [
    ['s3', s3db],
    ['local', localDb],
  ] as const) {
    if (opt.reuse && (await holdsAll(db))) {
      log(`${name}: reusing the ${N.toLocaleString('en-US')} items at ${db}`);
      continue;
    }
    if (name === 's3') await clearPrefix(db);
    else fs.rmSync(db, { recursive: true, force: true });
    const w = await fill(db, real);
    log(`${name}: written in ${w.writeS.toFixed(1)} s (${(N / w.writeS).toFixed(0)} items/s), optimized in ${w.optimizeS.toFixed(1)} s`);
  }

  log('');
  log(`Queries: store.search top ${K} + hydrate (the image query path), one at a time, ${WARMUP} warm-up then ${QUERIES} timed, each store in a fresh process`);
  const local = await runNode(localDb);
  const s3 = await runNode(s3db);
  const row = (name: string, f: NodeFigures) =>
    log(
      `${name.padEnd(6)} ${f.path.padStart(5)} ${f.p50.toFixed(1).padStart(8)} ${f.p95.toFixed(1).padStart(8)} ${f.searchP50.toFixed(1).padStart(9)} ${f.hydrateP50.toFixed(1).padStart(10)} ` +
        `${f.openMs.toFixed(0).padStart(8)} ${f.firstMs.toFixed(0).padStart(10)} ${f.sinceStartMs.toFixed(0).padStart(11)} ${f.maxRssMiB.toFixed(0).padStart(9)}`,
    );
  log(
    `${'store'.padEnd(6)} ${'path'.padStart(5)} ${'p50 ms'.padStart(8)} ${'p95 ms'.padStart(8)} ${'search50'.padStart(9)} ${'hydrate50'.padStart(10)} ${'open ms'.padStart(8)} ${'1st answer'.padStart(10)} ${'since start'.padStart(11)} ${'peak MiB'.padStart(9)}`,
  );
  row('local', local);
  row('s3', s3);
  log(
    `ratio s3/local: p50 ${(s3.p50 / local.p50).toFixed(2)}, p95 ${(s3.p95 / local.p95).toFixed(2)}, first answer of a new node ${(s3.firstMs / local.firstMs).toFixed(2)}`,
  );
  const met = s3.p50 <= TARGET_RATIO * local.p50;
  log(
    `target "query p50 on Ceph ≤ ${TARGET_RATIO} × local warm": ${met ? 'MET' : 'NOT MET'} (${s3.p50.toFixed(1)} ms vs ${(TARGET_RATIO * local.p50).toFixed(1)} ms)`,
  );
  log(`query node peak memory (maxRSS): s3 ${s3.maxRssMiB.toFixed(0)} MiB, local ${local.maxRssMiB.toFixed(0)} MiB`);

  log('');
  const flickr = loadFlickr8k('test').images.map((i) => i.path);
  const images = flickr.slice(0, Math.min(Number(opt.images), flickr.length));
  for (const workers of [1, 2]) {
    t0 = performance.now();
    const rate = await ingest(r, workers, images);
    if (rate === null) {
      log('ingest: not available in this build (no dist/src/cli/commands/worker-cmd.js; run npm run build on a build with visor worker)');
      break;
    }
    log(`ingest: ${images.length} Flickr8k images with ${workers} worker${workers === 1 ? '' : 's'}: ${rate.toFixed(1)} images/s (${seconds(t0).toFixed(1)} s)`);
  }
  log(`Total runtime: ${(seconds(started) / 60).toFixed(1)} min`);
}

if (opt.child === 'query') {
  rig();
  await queryNode(opt.db!);
} else {
  await main();
}
