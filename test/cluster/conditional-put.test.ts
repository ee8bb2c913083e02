import { afterAll, describe, expect, it } from 'vitest';
import { s3Settings } from '../../src/config.js';
import { objectKey, parseLocation, type S3Location } from '../../src/store/location.js';
import { S3Objects } from '../../src/store/s3/s3-objects.js';
import { freshDb, rig, rigEnv } from './rig.js';

// Commits to a shared collection rely on `If-None-Match: *` being atomic in the store: of writers
// racing for one key, exactly one may win. Checked on the real gateway, each writer its own client.
describe('conditional writes on the Ceph gateway', () => {
  const r = rig();
  const loc = parseLocation(freshDb(r, 'cond-put'), s3Settings({}, rigEnv(r))) as S3Location;
  const writers = Array.from({ length: 16 }, () => new S3Objects(loc));
  const keys: string[] = [];

  afterAll(async () => {
    for (const k of keys) await writers[0]!.delete(k);
    expect(await writers[0]!.list(`${loc.prefix}/`)).toEqual([]);
    for (const w of writers) w.close();
  });

  it.each([1, 2, 3])('16 simultaneous putIfAbsent to a new key: exactly one wins, and its body is stored (round %i)', async (round) => {
    const key = objectKey(loc, `claim-${round}`);
    keys.push(key);
    const won = await Promise.all(writers.map((w, i) => w.putIfAbsent(key, `writer ${i}`)));
    const winners = won.flatMap((w, i) => (w ? [i] : []));
    expect(winners).toHaveLength(1);
    expect((await writers[0]!.get(key))?.toString()).toBe(`writer ${winners[0]}`);

    // The key exists now: nobody wins, and the winner's body stays.
    const again = await Promise.all(writers.map((w, i) => w.putIfAbsent(key, `late writer ${i}`)));
    expect(again.filter(Boolean)).toHaveLength(0);
    expect((await writers[0]!.get(key))?.toString()).toBe(`writer ${winners[0]}`);
  });
});
