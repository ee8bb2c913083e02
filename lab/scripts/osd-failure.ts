/**
 * Acceptance: with 3 OSDs and 3 replicas (2 needed to write), losing one OSD stops neither
 * ingest nor search, and loses nothing.
 *
 * Phase A: distributed ingest (K workers of one thread) of N images into a fresh 4-shard
 * collection; once about a third is committed, osd.1 is killed (SIGKILL, its data gone); the
 * job must finish, and every image must be stored exactly once with every path. osd.1 is then
 * started again (empty) and the script waits until it has refilled.
 * Phase B: a query node (`visor serve`, answer cache off so every query reaches the store)
 * answers a stream of queries (the top 10 like an indexed image, then that image's record);
 * each answer before the kill is the reference; osd.2 is killed mid-stream, kept down past the
 * monitor's down-out interval (30 s on the rig), started again; every answer must succeed and
 * equal its reference. Prints latency before, during and after, and the longest stall.
 *
 * Needs the rig (scripts/cluster/start.sh with VISOR_CLUSTER_OSDS=3; `. /tmp/visor-cluster/env.sh`)
 * and the built CLI (npm run build). Kills one OSD at a time and always starts it again.
 *
 * Usage: npx tsx lab/scripts/osd-failure.ts [--n 1500] [--workers 2] [--db s3://visor-test/osd-failure]
 *          [--sources ../shared/datasets/flickr8k-trainval/images] [--queries 60] [--down 40]
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Collection } from '../../src/collection.js';
import { deleteCollection, freshCollection, ms, osd, osdsUp, quantile, serve, sleep, visor, waitHealthy } from './cluster-kit.js';

const { values } = parseArgs({
  options: {
    n: { type: 'string', default: '1500' },
    workers: { type: 'string', default: '2' },
    'batch-files': { type: 'string', default: '32' },
    db: { type: 'string', default: 's3://visor-test/osd-failure' },
    sources: { type: 'string', default: path.resolve(import.meta.dirname, '..', '..', '..', 'shared', 'datasets', 'flickr8k-trainval', 'images') },
    queries: { type: 'string', default: '60' },
    down: { type: 'string', default: '40' },
    before: { type: 'string', default: '10' },
    after: { type: 'string', default: '10' },
  },
});
const queue = process.env.VISOR_QUEUE;
if (!queue || !process.env.AWS_ENDPOINT_URL) {
  console.error('set the rig’s variables first: . /tmp/visor-cluster/env.sh');
  process.exit(2);
}
const N = Number(values.n);
const up = await osdsUp();
if (up.up < 3) {
  console.error(`the rig has ${up.up} of ${up.total} OSDs up: this measurement needs 3 (VISOR_CLUSTER_OSDS=3 scripts/cluster/start.sh)`);
  process.exit(2);
}
console.log(`rig: ${up.up} OSDs up; waiting until every placement group is clean…`);
await waitHealthy(3);

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'visor-osd-failure-'));
const photos = path.join(tmp, 'photos');
fs.mkdirSync(photos);
const names = fs
  .readdirSync(values.sources)
  .filter((f) => f.endsWith('.jpg'))
  .sort()
  .slice(0, N);
for (const f of names) fs.copyFileSync(path.join(values.sources, f), path.join(photos, f));
const files = names.map((f) => path.join(photos, f));
const db = freshCollection(values.db, 'run');
const verdicts: string[] = [];
const killed = new Set<number>();

async function restart(n: number): Promise<void> {
  if (!killed.has(n)) return;
  console.log(await osd('start', String(n)));
  killed.delete(n);
  const s = await waitHealthy(3);
  console.log(`  osd.${n} refilled: every placement group clean ${s.toFixed(1)} s after it came up`);
}

try {
  // --- Phase A: ingest through an OSD loss ---
  console.log(`\nPhase A: ${N} images, ${values.workers} workers of 1 thread, batches of ${values['batch-files']}, into ${db} (4 shards)`);
  const workers = Array.from({ length: Number(values.workers) }, () =>
    visor(['--db', db, 'worker', '--queue', queue, '--threads', '1', '--idle-exit', '90', '--json']),
  );
  const t0 = performance.now();
  const coord = visor(['--db', db, 'index', photos, '--queue', queue, '--shards', '4', '--batch-files', values['batch-files']!, '--json']);
  const batches = () =>
    workers
      .flatMap((w) => w.lines)
      .filter((l) => l.text.startsWith('{"batch"'))
      .map((l) => ({ t: l.t, files: (JSON.parse(l.text) as { files: number }).files }))
      .sort((a, b) => a.t - b.t);
  let killAt = NaN;
  const watcher = (async () => {
    while (coord.child.exitCode === null) {
      const done = batches().reduce((a, b) => a + b.files, 0);
      if (done >= N / 3) {
        await osd('kill', '1');
        killed.add(1);
        killAt = performance.now();
        console.log(`  killed osd.1 after ${done} of ${N} images were committed (${((killAt - t0) / 1000).toFixed(1)} s in)`);
        return;
      }
      await sleep(100);
    }
  })();
  const res = await coord.done;
  await watcher;
  const seconds = (performance.now() - t0) / 1000;
  for (const w of workers) w.child.kill('SIGTERM');
  await Promise.all(workers.map((w) => w.done));
  if (res.code !== 0) {
    verdicts.push(`Phase A: FAIL: the coordinator exited ${res.code}: ${res.stderr.trim()}`);
  } else {
    const summary = JSON.parse(res.stdout) as { indexed: number; skipped: unknown[] };
    const c = await Collection.open({ db, queue, consistencySeconds: 0 });
    const states = await c.store.fileStates();
    const items = await c.store.count();
    await c.close();
    const ids = new Set(states.map((s) => s.id));
    const paths = new Set(states.map((s) => s.path));
    const missing = files.filter((p) => !paths.has(p));
    // Batch completions: the longest gap before the kill is the normal rhythm, the one across it the stall.
    const times = batches().map((b) => b.t);
    const gaps = (from: number, to: number) =>
      times
        .slice(1)
        .map((t, i) => ({ t, gap: t - times[i]! }))
        .filter((g) => g.t > from && g.t <= to);
    const maxGap = (g: Array<{ gap: number }>) => Math.max(0, ...g.map((x) => x.gap));
    const firstAfter = times.find((t) => t > killAt);
    const ok = Number.isFinite(killAt) && items === N && ids.size === N && missing.length === 0 && summary.skipped.length === 0;
    console.log(
      `  ${items} items, ${ids.size} distinct ids, ${paths.size} paths (${missing.length} missing), ${summary.indexed} embedded, ` +
        `${summary.skipped.length} skipped; ${seconds.toFixed(1)} s, ${(N / seconds).toFixed(1)} images/s`,
    );
    console.log(
      `  batch completions: longest gap before the kill ${ms(maxGap(gaps(0, killAt)))}, across and after it ${ms(maxGap(gaps(killAt, Infinity)))}; ` +
        `first batch after the kill ${firstAfter ? ms(firstAfter - killAt) : '–'} later`,
    );
    verdicts.push(
      `Phase A: ${ok ? 'PASS' : 'FAIL'}: ingest of ${N} with osd.1 killed at ${Number.isFinite(killAt) ? 'a third' : 'no point (the job ended first)'}: ` +
        `${items} items, ${ids.size} ids, ${missing.length} paths missing`,
    );
  }
  await restart(1);

  // --- Phase B: searches through an OSD loss ---
  const node = await serve(db, ['--search-cache', '0']);
  const reader = await Collection.open({ db, queue, consistencySeconds: 0 });
  const queryIds = [...new Set((await reader.store.fileStates()).map((s) => s.id))].sort().slice(0, Number(values.queries));
  await reader.close();
  console.log(`\nPhase B: ${queryIds.length} queries (top 10 like an indexed image, then its record) in a loop against ${node.url}, answer cache off`);
  const ask = async (id: string): Promise<string> => {
    const [sim, item] = await Promise.all([fetch(`${node.url}/api/items/${id}/similar?k=10`), fetch(`${node.url}/api/items/${id}`)]);
    if (!sim.ok || !item.ok) throw new Error(`HTTP ${sim.status}/${item.status}: ${sim.ok ? '' : await sim.text()} ${item.ok ? '' : await item.text()}`);
    const s = (await sim.json()) as { results: Array<{ id: string; score: number }> };
    const it = (await item.json()) as { id: string; paths: string[] };
    return JSON.stringify({ top: s.results.map((r) => [r.id, r.score]), paths: [...it.paths].sort() });
  };
  const reference = new Map<string, string>();
  for (const id of queryIds) reference.set(id, await ask(id));
  type Sample = { t: number; latency: number; ok: boolean; same: boolean; error?: string };
  const samples: Sample[] = [];
  let stop = false;
  const stream = (async () => {
    for (let i = 0; !stop; i++) {
      const id = queryIds[i % queryIds.length]!;
      const t = performance.now();
      try {
        const answer = await ask(id);
        samples.push({ t, latency: performance.now() - t, ok: true, same: answer === reference.get(id) });
      } catch (e) {
        samples.push({ t, latency: performance.now() - t, ok: false, same: false, error: (e as Error).message });
      }
    }
  })();
  await sleep(Number(values.before) * 1000);
  const kill2 = performance.now();
  await osd('kill', '2');
  killed.add(2);
  console.log(`  killed osd.2; keeping it down ${values.down} s`);
  await sleep(Number(values.down) * 1000);
  const restartAt = performance.now();
  await restart(2);
  const cleanAt = performance.now();
  await sleep(Number(values.after) * 1000);
  stop = true;
  await stream;
  node.child.kill('SIGTERM');
  await node.done;

  const windows: Array<[string, number, number]> = [
    ['before the kill', 0, kill2],
    ['osd.2 down', kill2, restartAt],
    ['osd.2 refilling', restartAt, cleanAt],
    ['after, all clean', cleanAt, Infinity],
  ];
  for (const [label, from, to] of windows) {
    const w = samples.filter((s) => s.t >= from && s.t < to);
    const lat = w.map((s) => s.latency);
    console.log(
      `  ${label.padEnd(17)} ${String(w.length).padStart(5)} queries, ${w.filter((s) => !s.ok).length} errors, ${w.filter((s) => s.ok && !s.same).length} different; ` +
        `latency p50 ${ms(quantile(lat, 0.5))}, p99 ${ms(quantile(lat, 0.99))}, max ${ms(Math.max(...lat))}`,
    );
  }
  const errors = samples.filter((s) => !s.ok);
  const differ = samples.filter((s) => s.ok && !s.same);
  for (const e of errors.slice(0, 5)) console.log(`  error at ${((e.t - kill2) / 1000).toFixed(1)} s from the kill: ${e.error}`);
  const stall = samples.filter((s) => s.t >= kill2).reduce((a, s) => (s.latency > a.latency ? s : a), { latency: 0, t: kill2 });
  console.log(`  longest answer from the kill on: ${ms(stall.latency)}, asked ${((stall.t - kill2) / 1000).toFixed(1)} s after the kill`);
  verdicts.push(
    `Phase B: ${errors.length === 0 && differ.length === 0 && samples.length > 0 ? 'PASS' : 'FAIL'}: ${samples.length} queries through the loss of osd.2, ` +
      `${errors.length} errors, ${differ.length} answers different from the reference; longest ${ms(stall.latency)}`,
  );
} finally {
  for (const n of [...killed]) await restart(n).catch((e: unknown) => console.error(`could not restart osd.${n}: ${(e as Error).message}`));
  console.log(`\nremoved the collection (${await deleteCollection(db)} objects)`);
  fs.rmSync(tmp, { recursive: true, force: true });
}
console.log(`\n${verdicts.join('\n')}`);
process.exit(verdicts.length === 2 && verdicts.every((v) => v.includes(': PASS')) ? 0 : 1);
