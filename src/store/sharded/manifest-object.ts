import { VisorError } from '../../errors.js';
import { parseManifest, SCHEMA_VERSION } from '../manifest.js';
import type { S3Location } from '../location.js';
import { objectKey } from '../location.js';
import type { ObjectStore } from '../objects.js';
import type { Manifest } from '../types.js';

/**
 * The collection manifest of a sharded collection: one object `<prefix>/visor.json` (what the
 * collection was built with, its shard count, settings and spaces). Created with a conditional
 * PUT, so of two nodes creating the same collection one writes it and the other adopts it;
 * rewritten (settings, spaces) only under the collection's manifest lease.
 */
export const MANIFEST_OBJECT = 'visor.json';

export interface NewCollection {
  imageModel: string;
  dimension: number;
  numClasses: number;
  shards: number;
}

export class ManifestObject {
  readonly key: string;

  constructor(
    private readonly objects: ObjectStore,
    private readonly loc: S3Location,
  ) {
    this.key = objectKey(loc, MANIFEST_OBJECT);
  }

  /** Where it is, as users name it. */
  get name(): string {
    return `s3://${this.loc.bucket}/${this.key}`;
  }

  /** The manifest, checked; null when the collection does not exist. */
  async read(): Promise<Manifest | null> {
    const body = await this.objects.get(this.key);
    if (!body) return null;
    const m = parseManifest(body.toString('utf8'), this.name, `collection ${this.loc.uri}`);
    if (!Number.isInteger(m.shards) || m.shards! < 1)
      throw new VisorError('INDEX_INCOMPATIBLE', `${this.name} names no shard count; it is not a sharded Visor collection`);
    return m;
  }

  /**
   * Creates the manifest unless another node did first; either way answers the one now stored,
   * and whether this call wrote it (the node that did creates the shards' tables).
   */
  async create(c: NewCollection): Promise<{ manifest: Manifest; created: boolean }> {
    const m: Manifest = {
      format: 'visor-index',
      schemaVersion: SCHEMA_VERSION,
      imageModel: c.imageModel,
      dimension: c.dimension,
      numClasses: c.numClasses,
      createdAt: new Date().toISOString(),
      settings: {},
      shards: c.shards,
    };
    if (await this.objects.putIfAbsent(this.key, `${JSON.stringify(m, null, 2)}\n`)) return { manifest: m, created: true };
    const won = await this.read();
    if (!won) throw new VisorError('STORE_UNAVAILABLE', `${this.name} was created by another node but cannot be read back; try again`);
    return { manifest: won, created: false };
  }

  /** Rewrites it (the caller holds the manifest lease). */
  async write(m: Manifest): Promise<void> {
    await this.objects.put(this.key, `${JSON.stringify(m, null, 2)}\n`);
  }
}
