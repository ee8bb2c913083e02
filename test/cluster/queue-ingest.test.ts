import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { copyFlickrTestImages, tempDir, visor } from '../fixtures.js';
import { addDuplicates, contents, publishCopies, queuedBatches, start, until, worker } from './queue-helpers.js';
import { freshDb, rig, rigEnv } from './rig.js';

interface Summary {
  indexed: number;
  unchanged: number;
  duplicates: number;
  removed: number;
  skipped: unknown[];
  totalItems: number;
  interrupted: boolean;
  batches: number;
  workers: Array<{ worker: string; embedded: number }>;
}

describe('distributed indexing through NATS JetStream', () => {
  const r = rig();
  const tmp = tempDir('visor-queue-');
  afterAll(() => tmp.cleanup());

  it('an unreachable queue: exit 2, a message naming it, nothing written', () => {
    const photos = path.join(tmp.dir, 'unreachable');
    copyFlickrTestImages(3, photos);
    const db = path.join(tmp.dir, 'never');
    const res = visor(['--db', db, 'index', photos, '--queue', 'nats://127.0.0.1:1']);
    expect(res.code).toBe(2);
    expect(res.stderr).toContain('nats://127.0.0.1:1');
    expect(fs.existsSync(db)).toBe(false);
  });

  it('two workers store every image exactly once with all its paths; a re-run embeds nothing again and drops a deleted file', async () => {
    const photos = path.join(tmp.dir, 'photos');
    const files = copyFlickrTestImages(150, photos);
    // Copies under other names, spread over the batches: each is a second path of stored content.
    const dups = addDuplicates(files, 25);
    const db = path.join(tmp.dir, 'db');
    const workers = [worker(db, r.nats), worker(db, r.nats)];
    const coord = start(['--db', db, 'index', photos, '--queue', r.nats, '--batch-files', '16', '--json']);
    const res = await coord.done;
    expect(res.code, res.stderr).toBe(0);
    const s = JSON.parse(res.stdout) as Summary;
    expect(s.indexed).toBe(150);
    expect(s.duplicates).toBe(dups.length);
    expect(s.skipped).toEqual([]);
    expect(s.totalItems).toBe(150);
    expect(s.workers.reduce((n, w) => n + w.embedded, 0)).toBe(150);
    const stored = await contents(db);
    expect(stored.items).toBe(150);
    expect(stored.ids).toHaveLength(150);
    for (const f of [...files, ...dups]) expect(stored.paths.has(f), f).toBe(true);

    // Re-run: one file gone, one touched (same bytes, a new time): nothing embedded again.
    fs.rmSync(files[3]!);
    const later = new Date(Date.now() + 60_000);
    fs.utimesSync(files[7]!, later, later);
    const again = visor(['--db', db, 'index', photos, '--queue', r.nats, '--json']);
    expect(again.code, again.stderr).toBe(0);
    const s2 = JSON.parse(again.stdout) as Summary;
    expect(s2.indexed).toBe(0);
    expect(s2.removed).toBe(1);
    expect(s2.unchanged).toBe(files.length + dups.length - 1);
    expect(s2.totalItems).toBe(149);
    const after = await contents(db);
    expect(after.paths.has(files[3]!)).toBe(false);
    expect(after.paths.size).toBe(files.length + dups.length - 1);
    for (const w of workers) expect((await w.done).code).toBe(0);
  });

  it('a batch done twice (sent again as a copy) stores its images once', async () => {
    const photos = path.join(tmp.dir, 'twice');
    const files = copyFlickrTestImages(40, photos);
    const db = path.join(tmp.dir, 'twice-db');
    // No worker yet: the batches wait on the queue, where the test copies them.
    const coord = start(['--db', db, 'index', photos, '--queue', r.nats, '--batch-files', '10', '--json']);
    let batches: Uint8Array[] = [];
    await until(async () => (batches = await queuedBatches(r.nats, db)).length === 4, 60_000, 'the batches to be queued');
    await publishCopies(r.nats, db, batches);
    const workers = [worker(db, r.nats, 8), worker(db, r.nats, 8)];
    const res = await coord.done;
    expect(res.code, res.stderr).toBe(0);
    const s = JSON.parse(res.stdout) as Summary;
    expect(s.indexed).toBe(40);
    expect(s.totalItems).toBe(40);
    const w = await Promise.all(workers.map((x) => x.done));
    // Every copy was done: eight batches between the two workers.
    expect(w.flatMap((x) => x.stdout.split('\n').filter((l) => l.startsWith('{"batch"')))).toHaveLength(8);
    const stored = await contents(db);
    expect(stored.items).toBe(40);
    for (const f of files) expect(stored.paths.has(f)).toBe(true);
  });

  it('indexes into s3:// (the sharded store) exactly once with all paths', async () => {
    const env = rigEnv(r);
    const photos = path.join(tmp.dir, 's3-photos');
    const files = copyFlickrTestImages(48, photos);
    const dups = addDuplicates(files, 12);
    const db = freshDb(r, 'queue');
    const workers = [worker(db, r.nats, 10, env), worker(db, r.nats, 10, env)];
    const res = await start(['--db', db, 'index', photos, '--queue', r.nats, '--batch-files', '12', '--shards', '2', '--json'], env).done;
    expect(res.code, res.stderr).toBe(0);
    const s = JSON.parse(res.stdout) as Summary;
    expect(s.indexed).toBe(48);
    expect(s.duplicates).toBe(dups.length);
    const stored = await contents(db, env);
    expect(stored.items).toBe(48);
    expect(stored.ids).toHaveLength(48);
    for (const f of [...files, ...dups]) expect(stored.paths.has(f), f).toBe(true);
    for (const x of workers) expect((await x.done).code).toBe(0);
  });
});
