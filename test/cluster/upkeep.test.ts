/**
 * Upkeep of a shared collection: a query node's round compacts and indexes the shards under
 * their leases when something was committed since its last round, and does nothing otherwise;
 * a round that fails is reported and the node keeps going.
 */
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Collection } from '../../src/collection.js';
import { startUpkeep } from '../../src/server/upkeep.js';
import { copyFlickrTestImages, tempDir, visor } from '../fixtures.js';
import { freshDb, rig, rigEnv } from './rig.js';

const env = rigEnv(rig());
Object.assign(process.env, env);

describe('upkeep of a shared collection', () => {
  const tmp = tempDir('visor-upkeep-');
  const db = freshDb(rig(), 'upkeep');
  let node: Collection | undefined;

  afterAll(async () => {
    await node?.close();
    tmp.cleanup();
  });

  it('runs after commits, skips when nothing changed, and picks up another node’s commits', async () => {
    copyFlickrTestImages(12, path.join(tmp.dir, 'a'));
    expect(visor(['index', path.join(tmp.dir, 'a'), '--db', db, '--shards', '2'], { env }).code).toBe(0);
    node = await Collection.open({ db });
    const before = (await node.store.stats()).version;
    expect(await node.maintain()).toBe(true);
    // Compaction committed new versions on the shards it rewrote.
    expect((await node.store.stats()).version).toBeGreaterThan(before);
    expect(await node.maintain()).toBe(false);

    // Another node adds images: the next round sees them (after the consistency interval) and runs.
    const more = copyFlickrTestImages(15, path.join(tmp.dir, 'b')).slice(12);
    expect(visor(['index', ...more, '--db', db], { env }).code).toBe(0);
    await new Promise((r) => setTimeout(r, 1500));
    expect(await node.store.count()).toBe(15);
    expect(await node.maintain()).toBe(true);
    expect((await node.search({ images: [more[0]!], k: 1 })).results[0]!.paths).toContain(more[0]);
  }, 120_000);

  it('a failed round is reported and retried, never thrown', async () => {
    let calls = 0;
    const warnings: string[] = [];
    const stop = startUpkeep(
      {
        maintain: () => {
          calls++;
          return Promise.reject(new Error('store unreachable'));
        },
      },
      40,
      (m) => warnings.push(m),
    );
    await new Promise((r) => setTimeout(r, 200));
    stop();
    const seen = calls;
    await new Promise((r) => setTimeout(r, 100));
    expect(seen).toBeGreaterThanOrEqual(2);
    expect(calls).toBe(seen);
    expect(warnings[0]).toMatch(/upkeep of the collection failed .*store unreachable/);
  });
});
