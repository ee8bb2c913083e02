import { randomBytes } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import { HeadBucketCommand, S3ServiceException } from '@aws-sdk/client-s3';
import { errorMessage, isVisorError } from '../../errors.js';
import { parseLocation, objectKey, type S3Location, type S3Settings } from '../location.js';
import { checkFolder } from '../check-folder.js';
import { report, type StoreCheck, type StoreReport } from '../check-types.js';
import { S3Objects } from './s3-objects.js';

export type { StoreCheck, StoreReport } from '../check-types.js';

const ENDPOINT_FIX = 'check AWS_ENDPOINT_URL (or "s3.endpoint" in visor.config.json) and that the store is running';
const CREDENTIALS_FIX = 'set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or "s3" in visor.config.json) to keys this store accepts';

/**
 * Whether `--db` can hold a collection: for `s3://bucket/prefix`, that the store answers, takes
 * the credentials, has the bucket, stores and returns objects, honours conditional writes (or
 * concurrent commits could lose rows), and that a manifest already there parses; for a folder,
 * `checkFolder`. Leaves nothing behind.
 */
export async function checkStore(db: string, s3?: S3Settings): Promise<StoreReport> {
  const loc = parseLocation(db, s3);
  return loc.kind === 'local' ? checkFolder(loc.dir) : checkS3Store(loc);
}

/** Any HTTP answer, even an error, shows the endpoint is there (node:http, not fetch, which refuses some ports). */
function endpointAnswers(url: string): Promise<StoreCheck> {
  const name = 'endpoint reachable';
  return new Promise((resolve) => {
    const fail = (why: string): void => resolve({ name, ok: false, detail: `no answer from ${url} (${why})`, fix: ENDPOINT_FIX });
    let req: http.ClientRequest;
    try {
      req = (url.startsWith('https:') ? https : http).get(url, { timeout: 5_000 }, (res) => {
        res.resume();
        resolve({ name, ok: true, detail: `${url} answered (HTTP ${res.statusCode})` });
      });
    } catch (e) {
      return fail(errorMessage(e));
    }
    req.on('timeout', () => req.destroy(new Error('no answer within 5 s')));
    req.on('error', (e: NodeJS.ErrnoException) => fail(e.code ?? e.message));
  });
}

/** HEAD on the bucket: 403 means the credentials (or their rights) were refused, 404 that there is no such bucket. */
async function bucketChecks(store: S3Objects, loc: S3Location): Promise<StoreCheck[]> {
  try {
    await store.client.send(new HeadBucketCommand({ Bucket: loc.bucket }));
    return [
      { name: 'credentials accepted', ok: true, detail: loc.s3.accessKeyId ? `access key ${loc.s3.accessKeyId}` : 'the SDK default credentials' },
      { name: 'bucket exists', ok: true, detail: `bucket ${loc.bucket}` },
    ];
  } catch (e) {
    const status = e instanceof S3ServiceException ? e.$metadata.httpStatusCode : undefined;
    if (status === 404) {
      return [
        { name: 'credentials accepted', ok: true, detail: loc.s3.accessKeyId ? `access key ${loc.s3.accessKeyId}` : 'the SDK default credentials' },
        { name: 'bucket exists', ok: false, detail: `no bucket '${loc.bucket}'`, fix: 'create the bucket, or fix its name in --db' },
      ];
    }
    if (status === 403 || status === 400 || status === 401) {
      return [
        {
          name: 'credentials accepted',
          ok: false,
          detail: `the store refused the credentials for bucket '${loc.bucket}' (HTTP ${status})`,
          fix: CREDENTIALS_FIX,
        },
      ];
    }
    return [{ name: 'credentials accepted', ok: false, detail: errorMessage(e), fix: ENDPOINT_FIX }];
  }
}

/** A failed probe as a check line (a VisorError's message already names what to fix). */
function failed(name: string, e: unknown): StoreCheck {
  return { name, ok: false, detail: errorMessage(e), ...(isVisorError(e) ? {} : { fix: "check the store's settings and logs" }) };
}

async function probeReadWrite(store: S3Objects, key: string): Promise<StoreCheck> {
  const name = 'write, read, delete';
  try {
    const body = randomBytes(32).toString('hex');
    await store.put(key, body);
    const back = (await store.get(key))?.toString();
    if (back !== body)
      return { name, ok: false, detail: `read back ${back === undefined ? 'nothing' : 'other bytes'} after writing ${key}`, fix: 'check the store' };
    await store.delete(key);
    if ((await store.get(key)) !== null) return { name, ok: false, detail: `${key} still there after deleting it`, fix: 'check the store' };
    return { name, ok: true, detail: `a probe object under ${folderOf(key)}` };
  } catch (e) {
    return failed(name, e);
  }
}

const folderOf = (key: string): string => key.slice(0, key.lastIndexOf('/') + 1) || '/';

/**
 * A second `If-None-Match: *` write to an existing key must be refused. Stores that ignore the
 * header let two writers both "create" one commit, and one writer's rows silently vanish.
 */
async function probeConditionalWrite(store: S3Objects, key: string): Promise<StoreCheck> {
  const name = 'conditional writes';
  const refuse = 'concurrent commits could silently lose rows';
  try {
    if (!(await store.putIfAbsent(key, 'first'))) {
      return {
        name,
        ok: false,
        detail: `the store refused to create a new key (${key}) with If-None-Match: *; ${refuse}`,
        fix: 'use a store that supports conditional writes (If-None-Match)',
      };
    }
    if (await store.putIfAbsent(key, 'second')) {
      return {
        name,
        ok: false,
        detail: `the store accepted a second If-None-Match: * write to an existing key, so it cannot be used for a shared collection: ${refuse}`,
        fix: 'use a store that honours conditional writes (If-None-Match: *), e.g. Ceph radosgw, MinIO, or AWS S3',
      };
    }
    return { name, ok: true, detail: 'a second If-None-Match: * write to an existing key was refused (412)' };
  } catch (e) {
    return { ...failed(name, e), detail: `${errorMessage(e)}; ${refuse}`, fix: 'use a store that supports conditional writes (If-None-Match: *)' };
  }
}

async function checkManifest(store: S3Objects, key: string): Promise<StoreCheck> {
  const name = 'manifest';
  try {
    const body = await store.get(key);
    if (!body) return { name, ok: true, detail: 'no collection here yet' };
    const m = JSON.parse(body.toString()) as { format?: unknown; schemaVersion?: unknown } | null;
    if (m === null || typeof m !== 'object' || typeof m.format !== 'string') {
      return { name, ok: false, detail: `${key} is not a Visor manifest`, fix: 'choose another prefix in --db' };
    }
    return { name, ok: true, detail: `${key}: ${m.format}${typeof m.schemaVersion === 'number' ? `, schema ${m.schemaVersion}` : ''}` };
  } catch (e) {
    if (e instanceof SyntaxError)
      return { name, ok: false, detail: `${key} is damaged (${e.message})`, fix: 'choose another prefix in --db, or restore the manifest' };
    return failed(name, e);
  }
}

/** The checks, in order; each needs the ones before it, so the first failure ends the list. */
export async function checkS3Store(l: S3Location): Promise<StoreReport> {
  const checks: StoreCheck[] = [];
  const done = (): StoreReport => report(l.uri, 's3', checks);
  const endpoint = l.s3.endpoint ?? `https://s3.${l.s3.region}.amazonaws.com`;
  checks.push(await endpointAnswers(endpoint));
  if (!checks.at(-1)!.ok) return done();

  const store = new S3Objects(l);
  const probe = objectKey(l, `.visor-doctor-${Date.now().toString(36)}-${randomBytes(4).toString('hex')}`);
  const probes = [probe, `${probe}-conditional`];
  try {
    checks.push(...(await bucketChecks(store, l)));
    if (!checks.at(-1)!.ok) return done();
    for (const step of [
      () => probeReadWrite(store, probes[0]!),
      () => probeConditionalWrite(store, probes[1]!),
      () => checkManifest(store, objectKey(l, 'visor.json')),
    ]) {
      checks.push(await step());
      if (!checks.at(-1)!.ok) break;
    }
    return done();
  } finally {
    // Leave nothing behind, whatever failed.
    await Promise.all(probes.map((k) => store.delete(k).catch(() => undefined)));
    store.close();
  }
}
