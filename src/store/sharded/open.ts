import { VisorError } from '../../errors.js';
import type { AnnSettings } from '../lance/ann.js';
import { LazyKernel } from '../lance/kernel.js';
import { LanceStore } from '../lance/lance-store.js';
import type { LeaseService } from '../lease.js';
import { lanceStorageOptions, objectKey, type S3Location } from '../location.js';
import type { ObjectStore } from '../objects.js';
import { S3Objects } from '../s3/s3-objects.js';
import { ManifestObject } from './manifest-object.js';
import { Rewrites } from './rewrites.js';
import { shardName } from './routing.js';
import { ShardedStore } from './sharded-store.js';
import { itemsCreatedElsewhere, TableClaims } from './table-claims.js';

export const DEFAULT_SHARDS = 4;

export interface OpenShardedOptions {
  dimension: number;
  numClasses: number;
  imageModel: string;
  /** Create the collection when the prefix holds none (default true). */
  create?: boolean;
  /** Shards of a new collection (default 4); an existing one keeps its own. */
  shards?: number;
  /** Leases for rewriting shared data; without them appends and reads work, rewrites are refused. */
  leases?: LeaseService;
  /** Seconds before a node sees another node's commits (default 1). */
  consistencySeconds?: number;
  ann?: Partial<AnnSettings>;
  /** Where messages about skipped upkeep go (default: standard error). */
  notice?: (message: string) => void;
  /** The object store to use (default: S3 at the location's settings). */
  objects?: ObjectStore;
}

/**
 * A sharded collection at `s3://bucket/prefix`, opened or created. The bucket is checked
 * before anything is written, so a wrong endpoint, credentials or bucket fails at once, saying
 * what to fix; the manifest object is checked against the model that will use it.
 */
export async function openSharded(loc: S3Location, opts: OpenShardedOptions): Promise<ShardedStore> {
  const objects = opts.objects ?? new S3Objects(loc);
  const shards: LanceStore[] = [];
  // One exact kernel for every shard, taking turns (see kernel.ts).
  const kernel = new LazyKernel(true);
  try {
    await objects.checkBucket();
    const mo = new ManifestObject(objects, loc);
    let manifest = await mo.read();
    // Whether this node wrote the manifest: then it, and no other node, creates the shards' tables.
    let created = false;
    if (!manifest) {
      if (opts.create === false) throw new VisorError('INDEX_EMPTY', `no Visor collection at ${loc.uri}; create one with 'visor index <folder> --db ${loc.uri}'`);
      const n = opts.shards ?? DEFAULT_SHARDS;
      if (!Number.isInteger(n) || n < 1 || n > 256) throw new VisorError('QUERY_INVALID', `--shards ${n}: expected a whole number from 1 to 256`);
      // A prefix holding other objects is someone else's data.
      const other = (await objects.list(loc.prefix ? `${loc.prefix}/` : '')).filter((o) => o.key !== mo.key);
      // (Unless another node created the collection meanwhile.)
      if (other.length && !(manifest = await mo.read()))
        throw new VisorError('INDEX_INCOMPATIBLE', `${loc.uri} is not empty and holds no Visor collection (${other[0]!.key}, …); choose another --db`);
      if (!manifest)
        ({ manifest, created } = await mo.create({ imageModel: opts.imageModel, dimension: opts.dimension, numClasses: opts.numClasses, shards: n }));
    }
    if (manifest.imageModel !== opts.imageModel || manifest.dimension !== opts.dimension) {
      throw new VisorError(
        'INDEX_INCOMPATIBLE',
        `collection at ${loc.uri} was built with ${manifest.imageModel} (${manifest.dimension}-d); it cannot be used with ${opts.imageModel} (${opts.dimension}-d)`,
      );
    }
    if (opts.shards !== undefined && opts.shards !== manifest.shards) {
      throw new VisorError('QUERY_INVALID', `collection at ${loc.uri} has ${manifest.shards} shards; --shards ${opts.shards} applies only to a new collection`);
    }
    const storageOptions = lanceStorageOptions(loc.s3);
    // The promise is "searchable within the interval": the items tables are looked at for other
    // nodes' commits every quarter interval, every shard at once (see Lookout), and a commit's new
    // rows are read as soon as it is seen, which leaves the rest of the interval for reading them
    // and for the next search (measured: lab/scripts/visibility.ts).
    const checkSeconds = (opts.consistencySeconds ?? 1) / 4;
    // In parallel: each opening waits on object-store round trips, which a new node would otherwise pay shard after shard.
    const found = manifest;
    const opened = await Promise.allSettled(
      Array.from({ length: found.shards! }, (_, i) =>
        LanceStore.openAt(
          {
            uri: `${loc.uri}/${shardName(i)}`,
            storageOptions,
            // The other tables (spaces, side tables): looked at by LanceDB, every half interval.
            readConsistencySeconds: (opts.consistencySeconds ?? 1) / 2,
            itemsCheckSeconds: checkSeconds,
            // Each shard holds a copy; the collection's manifest object is the store's to write.
            manifest: structuredClone(found),
            saveManifest: () => undefined,
            ...(created ? {} : { createdElsewhere: itemsCreatedElsewhere(loc, i) }),
          },
          { ann: opts.ann, kernel },
        ),
      ),
    );
    for (const o of opened) if (o.status === 'fulfilled') shards.push(o.value);
    const failed = opened.find((o) => o.status === 'rejected');
    if (failed) throw failed.reason;
    const notice = opts.notice ?? ((m: string) => process.stderr.write(`${m}\n`));
    const release = async () => {
      objects.close();
      await kernel.close();
    };
    return new ShardedStore(
      loc.uri,
      manifest,
      shards,
      mo,
      new TableClaims(objects, loc),
      new Rewrites(opts.leases, loc.uri),
      notice,
      release,
      checkSeconds * 1000,
    );
  } catch (e) {
    for (const s of shards) await s.close().catch(() => undefined);
    await kernel.close();
    await opts.leases?.close().catch(() => undefined);
    objects.close();
    throw e;
  }
}

/** Bytes the collection's objects take (its manifest and every shard's files). */
export async function collectionBytes(loc: S3Location, objects: ObjectStore = new S3Objects(loc)): Promise<number> {
  try {
    return (await objects.list(objectKey(loc, ''))).reduce((n, o) => n + o.size, 0);
  } finally {
    objects.close();
  }
}
