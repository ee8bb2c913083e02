import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { copyFlickrTestImages, tempDir } from '../fixtures.js';
import { ackPending, addDuplicates, contents, start, until, worker } from './queue-helpers.js';
import { rig } from './rig.js';

describe('workers stopped mid-job', () => {
  const r = rig();
  const tmp = tempDir('visor-worker-kill-');
  afterAll(() => tmp.cleanup());

  it('a SIGKILLed worker’s batch goes to another after the ack wait; a SIGTERMed one finishes its batch first; every image stored once', async () => {
    const photos = path.join(tmp.dir, 'photos');
    const files = copyFlickrTestImages(150, photos);
    const dups = addDuplicates(files, 30);
    const db = path.join(tmp.dir, 'db');
    const killed = worker(db, r.nats, 60);
    const coord = start(['--db', db, 'index', photos, '--queue', r.nats, '--batch-files', '10', '--json']);
    await until(() => killed.lines.some((l) => l.startsWith('{"batch"')), 90_000, 'a first batch from the worker to kill');
    // Killed while it holds a batch: the only worker yet, it does when the queue counts one
    // delivered and not acked (its batch just reported, or the next). Killed on its report
    // alone, it was sometimes between the ack and the next batch, and nothing came again.
    await until(async () => (await ackPending(r.nats, db)) === 1, 30_000, 'the worker to kill to hold a batch');
    killed.child.kill('SIGKILL');
    // The survivor waits out the 30 s ack wait of the killed worker's batch.
    const stopped = worker(db, r.nats, 60);
    const survivor = worker(db, r.nats, 45);
    await until(() => stopped.lines.some((l) => l.startsWith('{"batch"')), 90_000, 'a first batch from the worker to stop');
    const batchesBefore = stopped.lines.filter((l) => l.startsWith('{"batch"')).length;
    stopped.child.kill('SIGTERM');
    const st = await stopped.done;
    expect(st.code, st.stderr).toBe(0);
    // It finished the batch it held (at most one more) rather than dropping it.
    expect(st.stdout.split('\n').filter((l) => l.startsWith('{"batch"')).length).toBeLessThanOrEqual(batchesBefore + 1);
    expect((await killed.done).signal).toBe('SIGKILL');

    const res = await coord.done;
    expect(res.code, res.stderr).toBe(0);
    const s = JSON.parse(res.stdout) as { indexed: number; duplicates: number; totalItems: number; skipped: unknown[] };
    expect(s.skipped).toEqual([]);
    expect(s.indexed).toBe(150);
    expect(s.duplicates).toBe(dups.length);
    expect(s.totalItems).toBe(150);
    // The killed worker's batch was delivered again.
    const sv = await survivor.done;
    expect(sv.stdout).toMatch(/"delivery":2/);
    const stored = await contents(db);
    expect(stored.items).toBe(150);
    expect(stored.ids).toHaveLength(150);
    for (const f of [...files, ...dups]) expect(stored.paths.has(f), f).toBe(true);
  }, 180_000);
});
