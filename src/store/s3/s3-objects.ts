import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadBucketCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import { VisorError } from '../../errors.js';
import type { S3Location } from '../location.js';
import type { ObjectStore } from '../objects.js';

/** What a failed request means for the user: which setting to fix. */
export function s3Problem(loc: S3Location, e: unknown, doing: string): VisorError {
  const where = loc.s3.endpoint ?? 'AWS S3';
  const name = e instanceof S3ServiceException ? e.name : ((e as { code?: string; name?: string }).code ?? (e as Error).name);
  const status = e instanceof S3ServiceException ? e.$metadata.httpStatusCode : undefined;
  if (name === 'NoSuchBucket' || (status === 404 && doing === 'checking the bucket'))
    return new VisorError('STORE_UNAVAILABLE', `bucket '${loc.bucket}' does not exist at ${where}; create it, or fix the bucket in --db`, { cause: e });
  if (name === 'InvalidAccessKeyId' || name === 'SignatureDoesNotMatch' || name === 'AccessDenied' || status === 403)
    return new VisorError(
      'STORE_UNAVAILABLE',
      `${where} refused the credentials (${name && name !== 'Unknown' ? name : `HTTP ${status}`}) while ${doing}; set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or "s3" in visor.config.json)`,
      { cause: e },
    );
  if (['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'ECONNRESET', 'EHOSTUNREACH', 'TimeoutError'].includes(name))
    return new VisorError(
      'STORE_UNAVAILABLE',
      `cannot reach the object store at ${where} (${name}) while ${doing}; check AWS_ENDPOINT_URL (or "s3.endpoint" in visor.config.json)`,
      {
        cause: e,
      },
    );
  return new VisorError(
    'STORE_UNAVAILABLE',
    `object store at ${where} failed while ${doing}: ${name}${status ? ` (HTTP ${status})` : ''}: ${(e as Error).message}`,
    {
      cause: e,
    },
  );
}

/** ObjectStore over the AWS SDK (any S3-compatible endpoint: Ceph's gateway, MinIO, AWS). */
export class S3Objects implements ObjectStore {
  readonly client: S3Client;

  constructor(readonly loc: S3Location) {
    // The SDK warns on every run under Node 20 that releases after January 2027 need Node 22;
    // Visor pins a release that supports Node 20, so the warning only alarms users.
    process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
    const s = loc.s3;
    this.client = new S3Client({
      region: s.region,
      ...(s.endpoint ? { endpoint: s.endpoint } : {}),
      forcePathStyle: !s.virtualHosted,
      ...(s.accessKeyId && s.secretAccessKey ? { credentials: { accessKeyId: s.accessKeyId, secretAccessKey: s.secretAccessKey } } : {}),
      // A store that does not answer is reported, not waited on for minutes.
      requestHandler: { connectionTimeout: 5_000, requestTimeout: 30_000 },
      maxAttempts: 3,
    });
  }

  async get(key: string): Promise<Buffer | null> {
    try {
      const r = await this.client.send(new GetObjectCommand({ Bucket: this.loc.bucket, Key: key }));
      return Buffer.from(await r.Body!.transformToByteArray());
    } catch (e) {
      if (e instanceof S3ServiceException && (e.name === 'NoSuchKey' || e.$metadata.httpStatusCode === 404) && e.name !== 'NoSuchBucket') return null;
      throw s3Problem(this.loc, e, `reading ${key}`);
    }
  }

  async put(key: string, body: Buffer | string): Promise<void> {
    try {
      await this.client.send(new PutObjectCommand({ Bucket: this.loc.bucket, Key: key, Body: body }));
    } catch (e) {
      throw s3Problem(this.loc, e, `writing ${key}`);
    }
  }

  async putIfAbsent(key: string, body: Buffer | string): Promise<boolean> {
    try {
      await this.client.send(new PutObjectCommand({ Bucket: this.loc.bucket, Key: key, Body: body, IfNoneMatch: '*' }));
      return true;
    } catch (e) {
      // 412: the key exists; 409: another conditional write to it is in progress.
      const status = e instanceof S3ServiceException ? e.$metadata.httpStatusCode : undefined;
      if (status === 412 || status === 409) return false;
      throw s3Problem(this.loc, e, `writing ${key}`);
    }
  }

  async delete(key: string): Promise<void> {
    try {
      await this.client.send(new DeleteObjectCommand({ Bucket: this.loc.bucket, Key: key }));
    } catch (e) {
      throw s3Problem(this.loc, e, `deleting ${key}`);
    }
  }

  async list(prefix: string): Promise<Array<{ key: string; size: number }>> {
    const out: Array<{ key: string; size: number }> = [];
    let token: string | undefined;
    try {
      do {
        const r = await this.client.send(new ListObjectsV2Command({ Bucket: this.loc.bucket, Prefix: prefix, ContinuationToken: token }));
        for (const o of r.Contents ?? []) if (o.Key) out.push({ key: o.Key, size: o.Size ?? 0 });
        token = r.IsTruncated ? r.NextContinuationToken : undefined;
      } while (token);
    } catch (e) {
      throw s3Problem(this.loc, e, `listing ${prefix}`);
    }
    return out;
  }

  async checkBucket(): Promise<void> {
    try {
      await this.client.send(new HeadBucketCommand({ Bucket: this.loc.bucket }));
    } catch (e) {
      throw s3Problem(this.loc, e, 'checking the bucket');
    }
  }

  close(): void {
    this.client.destroy();
  }
}
