/**
 * One object-store disk lost: with 3 OSDs and 3 replicas (2 needed to write), a sharded
 * collection still answers the same searches and takes appends while one OSD is down. The OSD
 * is always started again (empty; it refills from its peers) and the test waits until it is up.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Collection } from '../../src/collection.js';
import { copyFlickrTestImages, ROOT, tempDir, visor } from '../fixtures.js';
import { freshDb, RIG_DIR, rig, rigEnv } from './rig.js';

const r0 = rig();
const env = rigEnv(r0);
const OSD = 1;

function osdSh(...args: string[]): string {
  const r = spawnSync('bash', [path.join(ROOT, 'scripts', 'cluster', 'osd.sh'), ...args], { encoding: 'utf8', timeout: 120_000 });
  if (r.status !== 0) throw new Error(`osd.sh ${args.join(' ')}: ${r.stderr || r.stdout}`);
  return r.stdout;
}

function osdsUp(): number {
  const r = spawnSync('ceph', ['-c', `${RIG_DIR}/ceph.conf`, 'osd', 'stat', '-f', 'json'], { encoding: 'utf8', timeout: 30_000 });
  return (JSON.parse(r.stdout || '{}') as { num_up_osds?: number }).num_up_osds ?? 0;
}

async function waitUp(n: number, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (osdsUp() < n) {
    if (Date.now() > deadline) throw new Error(`only ${osdsUp()} of ${n} OSDs up after ${ms / 1000} s`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

describe('a sharded collection with one OSD down', () => {
  const tmp = tempDir('visor-osd-failure-');
  const photos = path.join(tmp.dir, 'photos');
  const more = path.join(tmp.dir, 'more');
  const db = freshDb(r0, 'osd-failure');
  let files: string[];
  let killed = false;
  const ranking = (stdout: string) =>
    (JSON.parse(stdout) as { results: Array<{ id: string; score: number; paths: string[] }> }).results.map((r) => [r.id, r.score, r.paths]);
  const search = (file: string) => visor(['--db', db, 'search', '--image', file, '-k', '10', '--json'], { env });

  beforeAll(() => {
    const up = osdsUp();
    if (up < 3) throw new Error(`this test needs the rig with 3 OSDs up (it has ${up}): VISOR_CLUSTER_OSDS=3 bash scripts/cluster/start.sh`);
    // The first 40 images now, the last 10 as the append while the OSD is down.
    const all = copyFlickrTestImages(50, path.join(tmp.dir, 'staging'));
    fs.mkdirSync(photos);
    fs.mkdirSync(more);
    files = all.map((f, i) => {
      const dest = path.join(i < 40 ? photos : more, path.basename(f));
      fs.renameSync(f, dest);
      return dest;
    });
    const r = visor(['--db', db, 'index', photos, '--shards', '4', '--workers', '1', '--json'], { env });
    expect(r.code, r.stderr).toBe(0);
  }, 60_000);

  afterAll(async () => {
    try {
      if (killed) osdSh('start', String(OSD));
      await waitUp(3, 60_000);
    } finally {
      const saved = { ...process.env };
      Object.assign(process.env, env);
      try {
        const { S3Objects } = await import('../../src/store/s3/s3-objects.js');
        const { parseLocation, objectKey } = await import('../../src/store/location.js');
        const { resolvePaths } = await import('../../src/config.js');
        const loc = parseLocation(db, resolvePaths().s3);
        if (loc.kind === 's3') {
          const objects = new S3Objects(loc);
          for (const o of await objects.list(objectKey(loc, ''))) await objects.delete(o.key);
          objects.close();
        }
      } finally {
        process.env = saved;
        tmp.cleanup();
      }
    }
  }, 90_000);

  it('answers the same searches and takes an append that is then searchable', async () => {
    const before = files.slice(0, 2).map((f) => search(f));
    for (const b of before) expect(b.code, b.stderr).toBe(0);

    osdSh('kill', String(OSD));
    killed = true;
    expect(osdsUp()).toBe(2);

    const during = files.slice(0, 2).map((f) => search(f));
    for (const [i, d] of during.entries()) {
      expect(d.code, d.stderr).toBe(0);
      expect(ranking(d.stdout)).toEqual(ranking(before[i]!.stdout));
      expect(ranking(d.stdout)).toHaveLength(10);
    }

    // An append of ten more images while the OSD is still down.
    const added = visor(['--db', db, 'index', more, '--workers', '1', '--json'], { env });
    expect(added.code, added.stderr).toBe(0);
    expect((JSON.parse(added.stdout) as { indexed: number }).indexed).toBe(10);
    expect(osdsUp()).toBe(2);
    const newFile = files[45]!;
    const found = search(newFile);
    expect(found.code, found.stderr).toBe(0);
    const top = (JSON.parse(found.stdout) as { results: Array<{ path: string; score: number }> }).results[0]!;
    expect(top.path).toBe(newFile);
    expect(top.score).toBeCloseTo(1, 4);

    const saved = { ...process.env };
    Object.assign(process.env, env);
    try {
      const c = await Collection.open({ db, consistencySeconds: 0 });
      try {
        expect(await c.store.count()).toBe(50);
      } finally {
        await c.close();
      }
    } finally {
      process.env = saved;
    }
  }, 90_000);
});
