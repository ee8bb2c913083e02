/**
 * Acceptance of distributed indexing at scale: starts K `visor worker` processes, runs
 * `visor index --queue` over the given sources into a fresh collection, optionally SIGKILLs one
 * worker part-way, then checks that every image is stored exactly once (items = distinct
 * content ids) with every path present, and prints images/s. Repeats --runs times.
 *
 * Needs the built CLI (npm run build), a NATS server with JetStream (--queue, or VISOR_QUEUE),
 * and for an s3:// --db the usual AWS_* settings. Each run gets its own collection: a folder
 * under --db, or a prefix under an s3:// --db.
 *
 * Usage:
 *   npx tsx lab/scripts/cluster-ingest.ts --sources ../shared/datasets/flickr8k-trainval/images
 *       --db /tmp/ingest (or s3://bucket/prefix) [--workers 2] [--threads 1] [--kill] [--runs 3] [--batch-files 48]
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Collection } from '../../src/collection.js';
import { gather } from '../../src/ingest/plan.js';

const { values } = parseArgs({
  options: {
    sources: { type: 'string', multiple: true },
    db: { type: 'string' },
    queue: { type: 'string', default: process.env.VISOR_QUEUE },
    workers: { type: 'string', default: '2' },
    threads: { type: 'string', default: '1' },
    'batch-files': { type: 'string', default: '48' },
    kill: { type: 'boolean', default: false },
    runs: { type: 'string', default: '1' },
  },
});
if (!values.sources?.length || !values.db || !values.queue) {
  console.error(
    'usage: cluster-ingest.ts --sources <dir> [--sources …] --db <folder|s3://bucket/prefix> --queue nats://host:4222 [--workers K] [--kill] [--runs N]',
  );
  process.exit(2);
}
const CLI = path.resolve(import.meta.dirname, '..', '..', 'dist', 'src', 'cli', 'main.js');

function visor(args: string[]): { child: ChildProcess; done: Promise<{ code: number | null; stdout: string; stderr: string }> } {
  const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  return { child, done: new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr }))) };
}

const expected = await gather(values.sources, {});
console.log(`${expected.candidates.size} files in the sources`);
for (let run = 1; run <= Number(values.runs); run++) {
  const base = values.db.replace(/\/+$/, '');
  const db = `${base}/run-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
  const workers = Array.from({ length: Number(values.workers) }, () =>
    visor(['--db', db, 'worker', '--queue', values.queue!, '--threads', values.threads!, '--idle-exit', '45', '--json']),
  );
  const t0 = performance.now();
  const coord = visor(['--db', db, 'index', ...values.sources, '--queue', values.queue, '--batch-files', values['batch-files']!, '--json']);
  if (values.kill) {
    // Part-way: once the first worker has reported a few batches.
    const victim = workers[0]!;
    let batches = 0;
    victim.child.stdout!.on('data', (d: Buffer) => {
      batches += d
        .toString()
        .split('\n')
        .filter((l) => l.startsWith('{"batch"')).length;
      if (batches >= 3 && victim.child.exitCode === null && !victim.child.killed) {
        victim.child.kill('SIGKILL');
        console.log(`run ${run}: killed a worker after ${batches} batches`);
      }
    });
  }
  const res = await coord.done;
  const seconds = (performance.now() - t0) / 1000;
  if (res.code !== 0) {
    console.error(`run ${run}: the coordinator failed (${res.code}): ${res.stderr}`);
    process.exit(1);
  }
  const summary = JSON.parse(res.stdout) as { indexed: number; duplicates: number; skipped: unknown[] };
  for (const w of workers) w.child.kill('SIGTERM');
  await Promise.all(workers.map((w) => w.done));
  const c = await Collection.open({ db, queue: values.queue });
  const states = await c.store.fileStates();
  const items = await c.store.count();
  await c.close();
  const ids = new Set(states.map((s) => s.id));
  const paths = new Set(states.map((s) => s.path));
  const missing = [...expected.candidates.keys()].filter((p) => !paths.has(p));
  const ok = items === ids.size && missing.length === 0;
  console.log(
    `run ${run}: ${ok ? 'OK' : 'FAILED'}: ${items} items, ${ids.size} distinct ids, ${paths.size} paths (${missing.length} missing), ` +
      `${summary.indexed} embedded, ${summary.duplicates} duplicates, ${summary.skipped.length} skipped; ` +
      `${seconds.toFixed(1)} s, ${(summary.indexed / seconds).toFixed(1)} images/s with ${workers.length} workers`,
  );
  if (!ok) process.exit(1);
}
