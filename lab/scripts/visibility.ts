/**
 * Acceptance: two query nodes serve a collection while a worker adds images; each new image
 * becomes searchable on every node within the consistency interval (VISOR_CONSISTENCY_SECONDS,
 * default 1 s).
 *
 * Indexes `--initial` images into a fresh 4-shard collection, starts two `visor serve` nodes on
 * it, then a coordinator and one worker add `--add` more in small batches. Meanwhile:
 * - an observer polls the store directly (its own connection, consistency 0) and notes when each
 *   new image is first committed (within one observer poll of its commit);
 * - each node is asked every `--poll` ms for everything it can find (a search like one indexed
 *   image, k = 500, paged), and the time each new image first appears is noted.
 * Prints, per node, the delay from commit to searchable (p50, p95, max) and whether the max stays
 * within the interval plus one node poll (a commit the observer saw late only shortens a delay;
 * the delay counted from the observer's previous poll, an upper bound, is printed too).
 *
 * Needs the rig (`. /tmp/visor-cluster/env.sh`) and the built CLI (npm run build).
 *
 * Usage: npx tsx lab/scripts/visibility.ts [--initial 100] [--add 300] [--batch-files 16] [--poll 200]
 *          [--db s3://visor-test/visibility] [--sources ../shared/datasets/flickr8k-trainval/images]
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Collection } from '../../src/collection.js';
import { deleteCollection, freshCollection, ms, quantile, serve, sleep, visor, type Proc } from './cluster-kit.js';

const { values } = parseArgs({
  options: {
    initial: { type: 'string', default: '100' },
    add: { type: 'string', default: '300' },
    'batch-files': { type: 'string', default: '16' },
    poll: { type: 'string', default: '200' },
    db: { type: 'string', default: 's3://visor-test/visibility' },
    sources: { type: 'string', default: path.resolve(import.meta.dirname, '..', '..', '..', 'shared', 'datasets', 'flickr8k-trainval', 'images') },
  },
});
const queue = process.env.VISOR_QUEUE;
if (!queue || !process.env.AWS_ENDPOINT_URL) {
  console.error('set the rig’s variables first: . /tmp/visor-cluster/env.sh');
  process.exit(2);
}
const initial = Number(values.initial);
const add = Number(values.add);
const pollMs = Number(values.poll);
const interval = Number(process.env.VISOR_CONSISTENCY_SECONDS ?? 1) * 1000;
const PAGE = 500;

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'visor-visibility-'));
const photos = path.join(tmp, 'photos');
fs.mkdirSync(photos);
// Later in the list than osd-failure.ts's images, so the two can run side by side without sharing content.
const names = fs
  .readdirSync(values.sources)
  .filter((f) => f.endsWith('.jpg'))
  .sort()
  .reverse()
  .slice(0, initial + add);
for (const f of names.slice(0, initial)) fs.copyFileSync(path.join(values.sources, f), path.join(photos, f));
const db = freshCollection(values.db, 'run');
const procs: Proc[] = [];
let pass = false;

try {
  console.log(`${initial} images first into ${db} (4 shards)…`);
  const first = visor(['--db', db, 'index', photos, '--shards', '4', '--workers', '1', '--json']);
  procs.push(first);
  const r0 = await first.done;
  if (r0.code !== 0) throw new Error(`indexing the first images failed: ${r0.stderr}`);
  const reader = await Collection.open({ db, queue, consistencySeconds: 0 });
  const before = new Set((await reader.store.fileStates()).map((s) => s.id));
  await reader.close();
  const anchor = [...before].sort()[0]!;
  const nodes = await Promise.all([serve(db), serve(db)]);
  procs.push(...nodes);
  console.log(`query nodes: ${nodes.map((n) => n.url).join(', ')}; consistency interval ${interval} ms; node poll every ${pollMs} ms`);

  // Everything a node can find: a search like one indexed image ranks every item, paged.
  const searchable = async (url: string): Promise<Set<string>> => {
    const ids = new Set<string>();
    for (let offset = 0; ; offset += PAGE) {
      const res = await fetch(`${url}/api/search`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ imageIds: [anchor], k: PAGE, offset, exact: true }),
      });
      if (!res.ok) throw new Error(`${url}: HTTP ${res.status} ${await res.text()}`);
      const page = ((await res.json()) as { results: Array<{ id: string }> }).results;
      for (const r of page) ids.add(r.id);
      if (page.length < PAGE) return ids;
    }
  };
  const start0 = await Promise.all(nodes.map((n) => searchable(n.url)));
  for (const [i, s] of start0.entries()) if (s.size !== before.size) throw new Error(`node ${i + 1} finds ${s.size} of the ${before.size} first images`);

  // Commits, as a fresh reader of the store sees them.
  const committed = new Map<string, { seen: number; after: number }>();
  const observerCycles: number[] = [];
  const seenBy = nodes.map(() => new Map<string, number>());
  const nodeCycles: number[][] = nodes.map(() => []);
  let stop = false;
  const observer = (async () => {
    const c = await Collection.open({ db, queue, consistencySeconds: 0 });
    let last = performance.now();
    while (!stop) {
      const t = performance.now();
      const states = await c.store.fileStates();
      const now = performance.now();
      for (const s of states) if (!before.has(s.id) && !committed.has(s.id)) committed.set(s.id, { seen: now, after: last });
      observerCycles.push(now - last);
      last = t;
      await sleep(Math.max(0, 50 - (performance.now() - t)));
    }
    await c.close();
  })();
  const pollers = nodes.map(async (n, i) => {
    while (!stop) {
      const t = performance.now();
      const ids = await searchable(n.url);
      const now = performance.now();
      for (const id of ids) if (!before.has(id) && !seenBy[i]!.has(id)) seenBy[i]!.set(id, now);
      nodeCycles[i]!.push(now - t);
      await sleep(Math.max(0, pollMs - (performance.now() - t)));
    }
  });

  for (const f of names.slice(initial)) fs.copyFileSync(path.join(values.sources, f), path.join(photos, f));
  const worker = visor(['--db', db, 'worker', '--queue', queue, '--threads', '1', '--idle-exit', '30', '--json']);
  procs.push(worker);
  const coord = visor(['--db', db, 'index', photos, '--queue', queue, '--batch-files', values['batch-files']!, '--json']);
  procs.push(coord);
  const rc = await coord.done;
  if (rc.code !== 0) throw new Error(`the coordinator failed: ${rc.stderr}`);
  worker.child.kill('SIGTERM');
  // Let every node catch up (well beyond the interval), then stop polling.
  const deadline = performance.now() + interval + 10_000;
  while (performance.now() < deadline && !seenBy.every((m) => m.size >= add)) await sleep(100);
  stop = true;
  await Promise.all([observer, ...pollers]);

  console.log(
    `${committed.size} new images committed (${add} added); observer poll p50 ${ms(quantile(observerCycles, 0.5))}, max ${ms(Math.max(...observerCycles))}`,
  );
  pass = committed.size === add;
  for (const [i, n] of nodes.entries()) {
    const delays: number[] = [];
    const upper: number[] = [];
    let missing = 0;
    for (const [id, c] of committed) {
      const t = seenBy[i]!.get(id);
      if (t === undefined) {
        missing++;
        continue;
      }
      // A node can see a commit before the observer's next look: that delay counts as 0.
      delays.push(Math.max(0, t - c.seen));
      upper.push(t - c.after);
    }
    const cycle = quantile(nodeCycles[i]!, 0.5);
    const bound = interval + pollMs;
    const max = Math.max(...delays);
    const ok = missing === 0 && max <= bound;
    pass &&= ok;
    console.log(
      `node ${i + 1} (${n.url}): ${delays.length} of ${committed.size} found, ${missing} never; commit → searchable p50 ${ms(quantile(delays, 0.5))}, ` +
        `p95 ${ms(quantile(delays, 0.95))}, max ${ms(max)} (upper bound from the observer's previous poll: max ${ms(Math.max(...upper))}); ` +
        `its poll took p50 ${ms(cycle)}; ${ok ? 'within' : 'NOT within'} interval + one poll = ${ms(bound)}`,
    );
  }
} finally {
  for (const p of procs) if (p.child.exitCode === null) p.child.kill('SIGTERM');
  await Promise.all(procs.map((p) => p.done));
  console.log(`removed the collection (${await deleteCollection(db)} objects)`);
  fs.rmSync(tmp, { recursive: true, force: true });
}
console.log(pass ? 'PASS' : 'FAIL');
process.exit(pass ? 0 : 1);
