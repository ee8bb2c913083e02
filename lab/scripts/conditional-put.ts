/**
 * Does the object store honour conditional writes? Races 16 clients (each its own connection)
 * writing one new key with `If-None-Match: *`, --rounds times, and prints the winners of each
 * round (exactly one is right), then 16 more at a key that exists (none is right).
 *
 * Usage: npx tsx lab/scripts/conditional-put.ts --db s3://bucket/prefix [--rounds 10] [--clients 16]
 */
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { objectKey, parseLocation, type S3Location } from '../../src/store/location.js';
import { S3Objects } from '../../src/store/s3/s3-objects.js';

const { values: o } = parseArgs({ options: { db: { type: 'string' }, rounds: { type: 'string', default: '10' }, clients: { type: 'string', default: '16' } } });
if (!o.db?.startsWith('s3://')) {
  process.stderr.write('usage: conditional-put.ts --db s3://bucket/prefix [--rounds 10] [--clients 16]\n');
  process.exit(2);
}
const loc = parseLocation(o.db) as S3Location;
const clients = Array.from({ length: Number(o.clients) }, () => new S3Objects(loc));
const rounds: number[] = [];
for (let r = 0; r < Number(o.rounds); r++) {
  const key = objectKey(loc, `race-${randomBytes(6).toString('hex')}`);
  const won = await Promise.all(clients.map((c, i) => c.putIfAbsent(key, `client ${i}`)));
  const again = await Promise.all(clients.map((c, i) => c.putIfAbsent(key, `late client ${i}`)));
  rounds.push(won.filter(Boolean).length);
  process.stdout.write(
    `round ${r + 1}: ${won.filter(Boolean).length} of ${clients.length} won a new key; ${again.filter(Boolean).length} won it once it existed\n`,
  );
  await clients[0]!.delete(key);
}
const ok = rounds.every((n) => n === 1);
process.stdout.write(`${ok ? 'PASS' : 'FAIL'}: exactly one winner in ${rounds.filter((n) => n === 1).length} of ${rounds.length} rounds\n`);
for (const c of clients) c.close();
process.exit(ok ? 0 : 1);
