import { execFile } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { s3Settings } from '../../src/config.js';
import { objectKey, parseLocation, type S3Location } from '../../src/store/location.js';
import { S3Objects } from '../../src/store/s3/s3-objects.js';
import { CLI, ROOT, tempDir } from '../fixtures.js';
import { freshDb, rig, rigEnv } from './rig.js';

interface Report {
  ok: boolean;
  checks: Array<{ name: string; ok: boolean; detail: string; fix?: string }>;
}

// Asynchronous (not fixtures' visor()): the fake store below answers from this process.
async function doctor(db: string, env: Record<string, string>, json = false): Promise<{ code: number; out: string }> {
  const args = [CLI, 'doctor', '--db', db, ...(json ? ['--json'] : [])];
  const fullEnv = { ...process.env, ...env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' };
  try {
    const r = await promisify(execFile)(process.execPath, args, { cwd: ROOT, env: fullEnv, encoding: 'utf8', timeout: 120_000 });
    return { code: 0, out: r.stdout + r.stderr };
  } catch (e) {
    const x = e as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof x.code === 'number' ? x.code : -1, out: `${x.stdout ?? ''}${x.stderr ?? ''}` };
  }
}

describe('visor doctor on the Ceph gateway', () => {
  const r = rig();
  const env = rigEnv(r);
  const db = freshDb(r, 'doctor');
  const loc = parseLocation(db, s3Settings({}, env)) as S3Location;
  const store = new S3Objects(loc);
  const left = async (): Promise<string[]> => (await store.list(`${loc.prefix}/`)).map((o) => o.key);

  afterAll(async () => {
    for (const k of await left()) await store.delete(k);
    store.close();
  });

  it('passes every check, conditional writes included, and leaves nothing behind', async () => {
    const res = await doctor(db, env, true);
    expect(res.code).toBe(0);
    const report = JSON.parse(res.out) as Report;
    expect(report.ok).toBe(true);
    expect(report.checks.map((c) => [c.name, c.ok])).toEqual([
      ['endpoint reachable', true],
      ['credentials accepted', true],
      ['bucket exists', true],
      ['write, read, delete', true],
      ['conditional writes', true],
      ['manifest', true],
    ]);
    expect(await left()).toEqual([]);
  });

  it('reads a manifest that is there, and fails on a damaged one', async () => {
    const key = objectKey(loc, 'visor.json');
    await store.put(key, JSON.stringify({ format: 'visor-collection', schemaVersion: 1 }));
    const good = await doctor(db, env);
    expect(good.code).toBe(0);
    expect(good.out).toMatch(/ok\s+manifest\s+.*visor-collection, schema 1/);
    await store.put(key, '{"format": ');
    const bad = await doctor(db, env);
    expect(bad.code).toBe(2);
    expect(bad.out).toMatch(/FAILED\s+manifest\s+.*damaged/);
    await store.delete(key);
    expect(await left()).toEqual([]);
  });

  it('wrong credentials: exit 2, naming the keys to set, nothing written', async () => {
    const res = await doctor(db, { ...env, AWS_SECRET_ACCESS_KEY: 'not-the-secret' });
    expect(res.code).toBe(2);
    expect(res.out).toMatch(/FAILED\s+credentials accepted/);
    expect(res.out).toContain('AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY');
    expect(await left()).toEqual([]);
  });

  it('a missing bucket: exit 2, saying to create it', async () => {
    const res = await doctor(`s3://visor-missing-${Date.now().toString(36)}/x`, env, true);
    expect(res.code).toBe(2);
    const report = JSON.parse(res.out) as Report;
    expect(report.checks.at(-1)).toMatchObject({ name: 'bucket exists', ok: false, fix: 'create the bucket, or fix its name in --db' });
  });

  it('an endpoint nobody listens on: exit 2, naming AWS_ENDPOINT_URL', async () => {
    const port = await new Promise<number>((resolve) => {
      const s = net.createServer().listen(0, '127.0.0.1', () => {
        const p = (s.address() as net.AddressInfo).port;
        s.close(() => resolve(p));
      });
    });
    const res = await doctor(db, { ...env, AWS_ENDPOINT_URL: `http://127.0.0.1:${port}` });
    expect(res.code).toBe(2);
    expect(res.out).toMatch(/FAILED\s+endpoint reachable\s+no answer from http:\/\/127\.0\.0\.1:\d+ \(ECONNREFUSED\)/);
    expect(res.out).toContain('AWS_ENDPOINT_URL');
  });
});

// A deliberately broken store, only to show the refusal: it takes every PUT, If-None-Match or not.
// (Concurrency itself is tested on the real gateway: conditional-put.test.ts.)
describe('visor doctor against a store that ignores If-None-Match', () => {
  const objects = new Map<string, Buffer>();
  const conditionalPuts: string[] = [];
  let server: http.Server;
  let endpoint = '';

  beforeAll(async () => {
    server = http.createServer((req, res) => {
      const key = decodeURIComponent((req.url ?? '/').split('?')[0]!);
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        if (req.method === 'HEAD' && key.split('/').filter(Boolean).length === 1) res.writeHead(200).end();
        else if (req.method === 'PUT') {
          if (req.headers['if-none-match']) conditionalPuts.push(key);
          objects.set(key, Buffer.concat(chunks));
          res.writeHead(200, { ETag: '"0"' }).end();
        } else if (req.method === 'GET' && objects.has(key)) res.writeHead(200, { 'Content-Type': 'application/octet-stream' }).end(objects.get(key));
        else if (req.method === 'DELETE') {
          objects.delete(key);
          res.writeHead(204).end();
        } else res.writeHead(404, { 'Content-Type': 'application/xml' }).end('<Error><Code>NoSuchKey</Code></Error>');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    endpoint = `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('is refused for shared writing (exit 2), saying why, and left empty', async () => {
    const env = { AWS_ENDPOINT_URL: endpoint, AWS_REGION: 'us-east-1', AWS_ACCESS_KEY_ID: 'a', AWS_SECRET_ACCESS_KEY: 'b', AWS_ALLOW_HTTP: 'true' };
    const res = await doctor('s3://fake-bucket/coll', env);
    expect(res.code).toBe(2);
    expect(res.out).toMatch(/ok\s+write, read, delete/);
    expect(res.out).toMatch(/FAILED\s+conditional writes\s+.*concurrent commits could silently lose rows/);
    expect(res.out).toContain('fix: use a store that honours conditional writes');
    expect(conditionalPuts.length).toBe(2);
    expect([...objects.keys()]).toEqual([]);
  });
});

describe('visor doctor on a local folder', () => {
  it('passes on a folder, and fails on a path through a file', async () => {
    const { dir, cleanup } = tempDir();
    try {
      const ok = await doctor(path.join(dir, 'index'), {});
      expect(ok.code).toBe(0);
      expect(ok.out).toContain('does not exist yet');
      expect(fs.readdirSync(dir)).toEqual([]);
      fs.writeFileSync(path.join(dir, 'file'), 'x');
      const bad = await doctor(path.join(dir, 'file', 'index'), {});
      expect(bad.code).toBe(2);
      expect(bad.out).toMatch(/FAILED\s+folder\s+.*is a file, not a folder/);
    } finally {
      cleanup();
    }
  });
});
