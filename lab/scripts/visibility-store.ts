/**
 * How soon does a node's store see another node's commit? A writer appends one item at a time to
 * a 4-shard collection on the rig; a reader (its own connections, the given consistency interval)
 * searches for it until found. Prints the delay's p50, p90 and max over 30 commits. This is the
 * store alone; lab/scripts/visibility.ts measures the same through 'visor serve' under an ingest.
 *
 * Usage: npx tsx lab/scripts/visibility-store.ts [interval seconds, default 1]   (AWS_* and VISOR_QUEUE from the rig)
 */
import { openStore } from '../../src/store/index.js';
import { NatsLeases } from '../../src/queue/nats-lease.js';
import { connectQueue } from '../../src/queue/connect.js';
import { createHash } from 'node:crypto';
const db = `s3://visor-test/visprobe-${Date.now()}`;
const nc = await connectQueue(process.env.VISOR_QUEUE!);
const leases = await NatsLeases.open(nc, db);
const base = { dimension: 8, numClasses: 0, imageModel: 'probe', leases };
const writer = await openStore(db, { ...base, create: true, shards: 4, consistencySeconds: 0 });
const reader = await openStore(db, { ...base, create: false, consistencySeconds: Number(process.argv[2] ?? 1) });
const item = (i: number) => {
  const v = new Float32Array(8);
  v[i % 8] = 1;
  v[(i + 3) % 8] = 0.5 + i / 1000;
  return {
    id: createHash('sha256').update(String(i)).digest('hex'),
    path: `/x/${i}.jpg`,
    paths: [`/x/${i}.jpg`],
    fileSizes: [1],
    fileMtimes: [1],
    width: 1,
    height: 1,
    format: 'jpeg',
    indexedAt: Date.now(),
    meta: {},
    vector: v,
    probs: new Float32Array(0),
  };
};
await writer.insert([0, 1, 2, 3].map(item));
await reader.search(item(0).vector, { k: 5 });
const delays: number[] = [];
for (let i = 10; i < 40; i++) {
  const it = item(i);
  await writer.insert([it]);
  const t0 = performance.now();
  for (;;) {
    const hits = await reader.search(it.vector, { k: 3 });
    if (hits.some((h) => h.id === it.id)) break;
    await new Promise((r) => setTimeout(r, 20));
  }
  delays.push(performance.now() - t0);
  await new Promise((r) => setTimeout(r, Math.random() * 700));
}
delays.sort((a, b) => a - b);
console.log('interval', process.argv[2] ?? 1, 's: delay p50', delays[15]!.toFixed(0), 'p90', delays[27]!.toFixed(0), 'max', delays[29]!.toFixed(0));
await writer.close();
await reader.close();
await nc.close();
