import type { AnnSettings } from './lance/ann.js';
import type { LeaseService } from './lease.js';
import { isRemoteDb, parseLocation } from './location.js';
import type { S3Settings } from '../config.js';
import type { Manifest, VectorStore } from './port.js';

export type * from './port.js';

export interface OpenStoreOptions {
  /** Dimension of the image features, and the model that made them (checked against an existing index). */
  dimension: number;
  /** Class probabilities per item for a new index (0: the image model has no classifier). */
  numClasses: number;
  imageModel: string;
  /** Create the index if the folder holds none (default true). */
  create?: boolean;
  /** Approximate-index settings (LanceDB's; see lance/ann.ts). */
  ann?: Partial<AnnSettings>;
  /** s3:// only: shards of a new collection (default 4). */
  shards?: number;
  /** s3:// only: leases for rewriting shared data (the store closes them with itself). */
  leases?: LeaseService;
  /** s3:// only: how to reach the store (default: resolvePaths().s3). */
  s3?: S3Settings;
  /** s3:// only: seconds before other nodes' commits are seen (default 1). */
  consistencySeconds?: number;
  /** s3:// only: where messages about skipped upkeep go (default: standard error). */
  notice?: (message: string) => void;
}

/**
 * Opens (or creates) an index as the port: product code opens a store without naming the
 * implementation. A folder is the embedded LanceDB store; `s3://bucket/prefix` a collection
 * sharded over several LanceDB stores in object storage. Each is loaded on first use.
 */
export async function openStore(db: string, opts: OpenStoreOptions): Promise<VectorStore> {
  if (isRemoteDb(db)) {
    const loc = parseLocation(db, opts.s3 ?? (await import('../config.js')).resolvePaths().s3);
    const { openSharded } = await import('./sharded/open.js');
    if (loc.kind === 's3') return openSharded(loc, opts);
  }
  const { LanceStore } = await import('./lance/lance-store.js');
  return LanceStore.open(db, opts);
}

/** What an index was built with, read without opening it (null when there is none); for s3:// the bucket is checked first. */
export async function readIndexManifest(db: string, s3?: S3Settings): Promise<Manifest | null> {
  if (!isRemoteDb(db)) return (await import('./manifest.js')).readManifest(db);
  const loc = parseLocation(db, s3 ?? (await import('../config.js')).resolvePaths().s3);
  if (loc.kind !== 's3') return null;
  const [{ S3Objects }, { ManifestObject }] = await Promise.all([import('./s3/s3-objects.js'), import('./sharded/manifest-object.js')]);
  const objects = new S3Objects(loc);
  try {
    await objects.checkBucket();
    return await new ManifestObject(objects, loc).read();
  } finally {
    objects.close();
  }
}

/** Bytes a collection in object storage takes (every object under its prefix). */
export async function indexBytes(db: string, s3?: S3Settings): Promise<number> {
  const loc = parseLocation(db, s3 ?? (await import('../config.js')).resolvePaths().s3);
  if (loc.kind !== 's3') throw new Error(`${db} is not in object storage`);
  return (await import('./sharded/open.js')).collectionBytes(loc);
}
