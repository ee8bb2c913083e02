import path from 'node:path';
import { VisorError } from '../errors.js';
import { isRemoteDb, s3Settings, type S3Settings } from '../config.js';

export { isRemoteDb, s3Settings, type S3Settings } from '../config.js';

/**
 * Where an index lives: a local folder (embedded LanceDB) or a prefix in an S3-compatible bucket
 * (`s3://bucket/prefix`: a sharded collection served by any number of nodes).
 */
export type StoreLocation = { kind: 'local'; dir: string } | S3Location;

export interface S3Location {
  kind: 's3';
  /** `s3://bucket/prefix` without a trailing slash. */
  uri: string;
  bucket: string;
  /** Key prefix inside the bucket, no leading or trailing slash ('' for the bucket's root). */
  prefix: string;
  s3: S3Settings;
}

/** Parses `--db`: `s3://bucket/prefix` or a folder (made absolute). */
export function parseLocation(db: string, s3: S3Settings = s3Settings()): StoreLocation {
  if (!isRemoteDb(db)) return { kind: 'local', dir: path.resolve(db) };
  const rest = db.replace(/^s3:\/\//i, '');
  const slash = rest.indexOf('/');
  const bucket = slash < 0 ? rest : rest.slice(0, slash);
  const prefix = (slash < 0 ? '' : rest.slice(slash + 1)).replace(/^\/+|\/+$/g, '');
  // S3's bucket naming rules: 3–63 lower-case letters, digits, dots and hyphens.
  if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(bucket)) {
    throw new VisorError('QUERY_INVALID', `--db ${db}: '${bucket}' is not a valid bucket name (3–63 lower-case letters, digits, '.' and '-')`);
  }
  if (prefix.split('/').some((p) => p === '' || p === '.' || p === '..')) {
    throw new VisorError('QUERY_INVALID', `--db ${db}: the prefix '${prefix}' has an empty, '.' or '..' part`);
  }
  return { kind: 's3', uri: `s3://${bucket}${prefix ? `/${prefix}` : ''}`, bucket, prefix, s3 };
}

/** The key of `name` under a location's prefix. */
export function objectKey(loc: S3Location, name: string): string {
  return loc.prefix ? `${loc.prefix}/${name}` : name;
}

/** LanceDB's storage options for a table under this location (see LanceDB's object-store docs). */
export function lanceStorageOptions(s: S3Settings): Record<string, string> {
  const o: Record<string, string> = { region: s.region, virtualHostedStyleRequest: String(s.virtualHosted) };
  if (s.endpoint) o.endpoint = s.endpoint;
  if (s.allowHttp) o.allowHttp = 'true';
  if (s.accessKeyId) o.accessKeyId = s.accessKeyId;
  if (s.secretAccessKey) o.secretAccessKey = s.secretAccessKey;
  return o;
}
