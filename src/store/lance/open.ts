import fs from 'node:fs';
import { VisorError } from '../../errors.js';
import { readManifest, SCHEMA_VERSION, writeManifest } from '../manifest.js';
import type { Manifest } from '../types.js';
import { lancedb, type LanceDB } from './arrow.js';
import { migrate } from './migrate.js';
import { coreSchema, ITEMS_TABLE } from './schema.js';
import { openTable, type CreatedElsewhere } from './tables.js';

export interface OpenIndexOptions {
  /** Dimension of the image features, and the model that made them, for a new index. */
  dimension: number;
  /** Class probabilities per item for a new index (0: the model has no classifier). */
  numClasses: number;
  imageModel: string;
  /** Create the index if the folder holds none (default true). */
  create?: boolean;
}

/**
 * The index in a folder, opened or created: its manifest checked against the model that will
 * use it (or written for a new one), its items table migrated to the current schema.
 */
export async function openIndex(dir: string, opts: OpenIndexOptions): Promise<{ db: LanceDB.Connection; table: LanceDB.Table; manifest: Manifest }> {
  let manifest = readManifest(dir);
  if (!manifest) {
    if (opts.create === false) {
      throw new VisorError('INDEX_EMPTY', `no Visor index at ${dir}; create one with 'visor index <folder>'`);
    }
    if (fs.existsSync(dir) && fs.readdirSync(dir).length > 0) {
      throw new VisorError('INDEX_INCOMPATIBLE', `${dir} is not empty and holds no Visor index; choose another --db`);
    }
    try {
      fs.mkdirSync(dir, { recursive: true });
      fs.accessSync(dir, fs.constants.W_OK);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      const why = code === 'EACCES' || code === 'EPERM' ? 'permission denied' : code === 'EROFS' ? 'read-only file system' : (e as Error).message;
      throw new VisorError('INDEX_INCOMPATIBLE', `cannot create an index at ${dir}: ${why}`, { cause: e });
    }
    manifest = {
      format: 'visor-index',
      schemaVersion: SCHEMA_VERSION,
      imageModel: opts.imageModel,
      dimension: opts.dimension,
      numClasses: opts.numClasses,
      createdAt: new Date().toISOString(),
      settings: {},
    };
  } else if (manifest.imageModel !== opts.imageModel || manifest.dimension !== opts.dimension) {
    throw new VisorError(
      'INDEX_INCOMPATIBLE',
      `index at ${dir} was built with ${manifest.imageModel} (${manifest.dimension}-d); ` + `it cannot be searched with ${opts.imageModel} (${opts.dimension}-d)`,
    );
  }
  // Readers re-check for commits by other processes (an indexer running beside a server).
  const { db, table } = await openItems({ uri: dir, manifest, saveManifest: () => undefined });
  if (!fs.existsSync(`${dir}/visor.json`) || manifest.schemaVersion !== readManifest(dir)?.schemaVersion) writeManifest(dir, manifest);
  return { db, table, manifest };
}

/** A LanceDB database at a URI whose manifest the caller holds (e.g. one shard of a collection in object storage). */
export interface LanceAt {
  /** A folder, or an object-store URI such as s3://bucket/prefix/shards/000. */
  uri: string;
  /** LanceDB's storage options (endpoint, region, credentials; see location.ts). */
  storageOptions?: Record<string, string>;
  /** How often reads look for other processes' commits, in seconds (default 1). */
  readConsistencySeconds?: number;
  /**
   * Where given, LanceDB does not look for other processes' commits to the items table, at any
   * read (a search's reads would stop midway to look, and see the table move on): the opener
   * looks (LanceStore.refresh()) about this often, in seconds, at moments of its choosing (a
   * sharded store: every shard at once); the store's reads look only when twice this has passed
   * with no look (see TableVersion).
   */
  itemsCheckSeconds?: number;
  /** What the index was built with, checked by the caller; changes (settings, spaces) go to saveManifest. */
  manifest: Manifest;
  /** Persists manifest changes (settings, spaces), wherever the caller keeps the manifest. */
  saveManifest: (m: Manifest) => void;
  /** Where given, another node creates the items table: this one waits for it (see tables.ts), never creates it. */
  createdElsewhere?: CreatedElsewhere;
}

/**
 * The items table at a URI, opened or created (or waited for, see LanceAt.createdElsewhere), and
 * migrated to the current schema (the manifest's schemaVersion follows); with `itemsCheckSeconds`,
 * on a connection of its own (`itemsDb`) that never looks for commits by itself.
 */
export async function openItems(at: LanceAt): Promise<{ db: LanceDB.Connection; table: LanceDB.Table; itemsDb?: LanceDB.Connection }> {
  const storage = at.storageOptions ? { storageOptions: at.storageOptions } : {};
  const db = await lancedb.connect(at.uri, { readConsistencyInterval: at.readConsistencySeconds ?? 1, ...storage });
  let itemsDb: LanceDB.Connection | undefined;
  try {
    if (at.itemsCheckSeconds !== undefined) itemsDb = await lancedb.connect(at.uri, storage);
    const on = itemsDb ?? db;
    const table = await openTable(on, ITEMS_TABLE, () => coreSchema(at.manifest.dimension, at.manifest.numClasses), at.createdElsewhere);
    if (at.manifest.schemaVersion < SCHEMA_VERSION) await migrate(table, at.manifest);
    return { db, table, ...(itemsDb ? { itemsDb } : {}) };
  } catch (e) {
    itemsDb?.close();
    db.close();
    throw e;
  }
}
