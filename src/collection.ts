import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { resolvePaths } from './config.js';
import { VisorError } from './errors.js';
import { EmbedPool } from './ingest/embed-pool.js';
import { indexSources, type IndexOptions, type IndexSummary } from './ingest/indexer.js';
import type { SpaceFillSummary, SpaceModel } from './ingest/space-fill.js';
import type { ClipModel } from './models/clip/clip-model.js';
import { PathLedger } from './ingest/path-ledger.js';
import type { MobileNetOptions } from './models/mobilenet.js';
import { isVisionLanguage, mainModelFor, recordedMainModel, type MainModelRef } from './models/main-model.js';
import { MOBILENET_V2_INT8 } from './models/registry.js';
import { resolveModel } from './models/resolve.js';
import { DEFAULT_MAX_PIXELS } from './image/limits.js';
import type { ImageEncoder } from './models/types.js';
import type { JointModel } from './models/joint-model.js';
import type { ConceptSpace } from './concepts/concept-space.js';
import type { Tag, TagOptions, Tagger } from './concepts/tags.js';
import type { ConceptSignal, ConceptSignalOptions } from './search/signals/concepts.js';
import type { QueryEncoders, QueryImageEncoder } from './search/encode.js';
import type { RankedResult, SearchPipeline, SearchResponse } from './search/pipeline.js';
import type { ImageRef, Query } from './search/query.js';
import { readQueryImage } from './search/read-query-image.js';
import type { SearchOptions } from './search/results.js';
import type { Signal, Stage } from './search/signal.js';
import type { RowFilter } from './search/filter.js';
import type { ObjectWords } from './search/signals/objects.js';
import { FactsView } from './search/facts-source.js';
import { PeopleView, peopleSource } from './search/people-source.js';
import { SAME_FACE } from './faces/grouping.js';
import { indexBytes, openStore, readIndexManifest, type VectorStore } from './store/index.js';
import type { AnnSettings } from './store/lance/ann.js';
import type { LeaseService } from './store/lease.js';
import { isRemoteDb, parseLocation } from './store/location.js';
import type { MetaColumnType, StoredItem } from './store/types.js';
import { acquireWriteLock } from './store/write-lock.js';
import type { NatsConnection } from 'nats';
import type { DistributedIndexOptions, DistributedIndexSummary } from './ingest/distributed/coordinator.js';
import type { IngestWorkerOptions, IngestWorkerSummary } from './ingest/distributed/worker.js';
import type { FactStage, ImageFacts } from './core/facts.js';
import type { FactsTable } from './facts/facts-table.js';
import type { FactsFillSummary } from './ingest/facts-fill.js';
import type { DuplicateOptions, DuplicateSource } from './duplicates/find-duplicates.js';
import type { DuplicateItem, DuplicateReport, KeepRule, RemovalStep } from './duplicates/groups.js';
import type { LabelsEvalReport } from './quality/labels-eval.js';
import type { RerankMethod } from './search/neighbours/rerankers.js';

export interface CollectionIndexOptions extends IndexOptions {
  /** Embedding worker threads (default: one per core). */
  workers?: number;
  /** Images per model run in each worker (default 8). */
  batchSize?: number;
  /**
   * Also embed every image with this vision–language model (a model id such as clip-vit-b32,
   * or a model folder) into a further space of its own; spaces the index already has are kept
   * up to date.
   */
  space?: string;
  onSpaceProgress?: (p: { space: string; done: number; total: number }) => void;
  /** Progress of the optional stages (localise, categorise, facts) run on the new images afterwards. */
  onStageProgress?: (p: { stage: string; done: number; total: number }) => void;
  /**
   * The fact stages this collection computes from now on (saved with it, as setFactStages
   * does): [] switches facts off. Left out: the stages it has, or the defaults.
   */
  facts?: readonly string[];
  /**
   * How this collection's image queries re-rank from now on (saved with it, as the neighbour
   * graph's setDefaults does); 'none' or 'qe' (with words' default none) keeps no graph.
   */
  imageRerank?: RerankMethod;
}

export interface CollectionIndexSummary extends IndexSummary {
  /** The further embedding spaces brought up to date (only items missing from each were embedded). */
  spaces: SpaceFillSummary[];
  /** The optional stages the collection has prepared, run on the images that lacked them: a line each. */
  stages?: string[];
  /** The facts pass (objects, colours, text) over the items that lacked a stage switched on. */
  facts?: FactsFillSummary & { people?: import('./faces/people.js').PeopleUpdate };
  /** The neighbour graph brought up to date (when the collection keeps one; docs/reranking.md). */
  graph?: import('./search/neighbours/graph-fill.js').GraphFillSummary;
}

export interface QueueWorkerOptions extends IngestWorkerOptions {
  /** The collection whose batches to take (default: VISOR_DB, else ~/.local/share/visor/index). */
  db?: string;
  /** The queue's URL, whose leases an s3:// collection's rewrites use too. */
  queue?: string;
  /** Embedding threads (default: one per core). */
  threads?: number;
  /** Images per model run in each thread (default 8). */
  batchSize?: number;
  model?: MobileNetOptions;
}

export interface OpenOptions {
  /** Index folder, or `s3://bucket/prefix` for a sharded collection in object storage (default: VISOR_DB, else ~/.local/share/visor/index). */
  db?: string;
  /** s3:// only: shards of a new collection (default 4; an existing one keeps its own). */
  shards?: number;
  /** s3:// only: NATS server whose leases coordinate rewrites of shared data (default: VISOR_QUEUE or config "queue"). */
  queue?: string;
  /** s3:// only: seconds before this node sees other nodes' commits (default: VISOR_CONSISTENCY_SECONDS, else 1). */
  consistencySeconds?: number;
  /** Create the index when missing (default false: reading a missing index is an error). */
  create?: boolean;
  /**
   * The main image model of a collection being created: a model id (default mobilenetv2-12-int8;
   * a CLIP-family id such as clip-vit-b32) or a CLIP-family model folder. An existing collection
   * keeps the model it was made with; naming another is an error.
   */
  imageModel?: string;
  /** Runtime options of the models (search path, threads, downloads). */
  model?: MobileNetOptions;
  ann?: Partial<AnnSettings>;
  /** Text search through the image model's visual concepts (default on); false turns it off. */
  concepts?: ConceptSignalOptions | false;
}

export interface CollectionStats {
  db: string;
  items: number;
  files: number;
  /** Paths beyond the first for content stored once. */
  duplicatePaths: number;
  imageModel: string;
  dimension: number;
  schemaVersion: number;
  createdAt: string;
  search: 'exact' | 'ann';
  annIndex: { type: string; indexedRows: number; unindexedRows: number } | null;
  metaColumns: Record<string, MetaColumnType>;
  bytesOnDisk: number;
  /** A collection in object storage: how many shards its items are spread over. */
  shards?: number;
  /** Further embedding spaces (e.g. CLIP), with how many items each holds. */
  spaces: Array<{ name: string; model: string; dimension: number; items: number }>;
}

export interface RemoveSummary {
  removedPaths: number;
  removedItems: number;
  notIndexed: string[];
}

export interface ImageQueryOptions extends SearchOptions {
  /** Leave the query image itself out when it is in the index (default false). */
  excludeSelf?: boolean;
  maxPixels?: number;
}

/** What a collection's main image model offers; signals switch themselves on by it. */
export interface ModelCapabilities {
  /** Image embeddings (always). */
  imageEmbedding: true;
  /** Class probabilities with their labels (MobileNetV2: ImageNet's 1000 classes). */
  classes: number;
  /** A text tower in the same space as the image embeddings (CLIP-family). */
  textTower: boolean;
}

/** Seconds before a node sees other nodes' commits to a shared collection. */
function consistencySeconds(opts: OpenOptions): number | undefined {
  const env = process.env.VISOR_CONSISTENCY_SECONDS;
  const v = opts.consistencySeconds ?? (env ? Number(env) : undefined);
  if (v !== undefined && !(v >= 0)) throw new VisorError('QUERY_INVALID', `VISOR_CONSISTENCY_SECONDS=${env}: expected a number of seconds (0 or more)`);
  return v;
}

/** Leases on the queue's NATS server for a shared collection; none without a queue (rewrites are then refused). */
async function leaseService(db: string, queue: string | undefined): Promise<LeaseService | undefined> {
  if (!queue) return undefined;
  const [{ connectQueue }, { NatsLeases }] = await Promise.all([import('./queue/connect.js'), import('./queue/nats-lease.js')]);
  return NatsLeases.open(await connectQueue(queue), db, true);
}

async function diskUsage(db: string): Promise<number> {
  if (isRemoteDb(db)) return indexBytes(db, resolvePaths().s3);
  const dir = db;
  let total = 0;
  for (const e of fs.readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (e.isFile()) total += fs.statSync(path.join(e.parentPath, e.name)).size;
  }
  return total;
}

/** The bytes of an indexed item: its first path that still reads. */
async function readIndexedFile(item: StoredItem): Promise<Buffer> {
  for (const p of item.paths) {
    const bytes = await fs.promises.readFile(p).catch(() => null);
    if (bytes) return bytes;
  }
  throw new VisorError('IMAGE_UNREADABLE', `the file of item ${item.id} cannot be read (${item.path}): it has moved or been removed since it was indexed`);
}

/** The settings key where a collection made with a model folder records the folder. */
const MAIN_MODEL_FOLDER = 'imageModelFolder';

/**
 * A searchable image collection: its index on disk and the models that fill and query it.
 * Models load on first use, so opening an index to read stats or remove paths is instant.
 * Every rule of the product lives here: the CLI, the HTTP API and library users call the same
 * methods and get the same behaviour.
 */
export class Collection {
  private encoder: Promise<ImageEncoder> | null = null;
  private mainText: Promise<ClipModel> | null = null;
  private pool: { promise: Promise<EmbedPool>; key: string } | null = null;
  private joint: { ref: string; promise: Promise<JointModel> } | null = null;
  /** Joint model chosen for this session (useTextModel), over the one the index records. */
  private jointRef: string | undefined;
  private pipeline: SearchPipeline | null = null;
  private concepts: Promise<{ space: ConceptSpace; tagger: Tagger; signal: ConceptSignal }> | null = null;
  private signalList: { key: string; signals: Promise<Signal[]> } | null = null;
  private stageList: Promise<{ stages: Stage[]; close(): Promise<void> }> | null = null;
  private neighbours: Promise<import('./search/neighbours/collection-graph.js').CollectionGraph> | null = null;
  private factsRows: FactsView | null = null;
  private objectVocabulary: Promise<ObjectWords> | null = null;
  private domainStages: Promise<import('./domain/stages.js').DomainStages> | null = null;
  private factsReader: Promise<FactsTable> | null = null;
  private peopleData: Promise<import('./faces/people.js').People> | null = null;
  private peopleRows: PeopleView | null = null;
  private factsWorkers: { key: string; promise: Promise<import('./ingest/facts-pool.js').FactsPool> } | null = null;
  /** Vision–language models of the index's spaces, by space and tower, loaded on first use. */
  private readonly spaceModels = new Map<string, Promise<ClipModel>>();
  private readonly spacePools: EmbedPool[] = [];
  private onDemand: import('./facts/on-demand.js').FactsOnDemand | null = null;
  /** Store version after this node's last upkeep (maintain()). */
  private maintainedAt: number | undefined;

  private constructor(
    readonly db: string,
    readonly store: VectorStore,
    /** The main image model. */
    readonly mainModel: MainModelRef,
    private readonly modelOptions: MobileNetOptions,
    private readonly conceptOptions: ConceptSignalOptions | false = {},
  ) {}

  static async open(opts: OpenOptions = {}): Promise<Collection> {
    const settings = resolvePaths();
    const given = opts.db ?? settings.defaultDb;
    const remote = isRemoteDb(given);
    const loc = remote ? parseLocation(given, settings.s3) : null;
    const db = loc?.kind === 's3' ? loc.uri : path.resolve(given);
    const paths = opts.model?.paths;
    const manifest = await readIndexManifest(db, settings.s3);
    let main: MainModelRef;
    let dimension: number;
    let numClasses: number;
    if (manifest) {
      main = recordedMainModel(manifest.imageModel, manifest.settings[MAIN_MODEL_FOLDER], paths);
      if (opts.imageModel !== undefined && mainModelFor(opts.imageModel, paths).id !== main.id) {
        throw new VisorError(
          'INDEX_INCOMPATIBLE',
          `index at ${db} was made with ${main.id}; its main model cannot change (to add ${opts.imageModel} beside it: 'visor index <folder> --space ${opts.imageModel}')`,
        );
      }
      ({ dimension, numClasses } = manifest);
    } else {
      main = mainModelFor(opts.imageModel, paths);
      if (opts.create === false || opts.create === undefined) {
        // The store explains a missing index; the model's size does not matter then.
        dimension = 0;
        numClasses = 0;
      } else ({ dimension, numClasses } = await describeMainModel(main, opts.model ?? {}));
    }
    const store = await openStore(db, {
      dimension,
      numClasses,
      imageModel: main.id,
      create: opts.create ?? false,
      ann: opts.ann,
      ...(remote
        ? { s3: settings.s3, shards: opts.shards, consistencySeconds: consistencySeconds(opts), leases: await leaseService(db, opts.queue ?? settings.queue) }
        : {}),
    });
    if (!manifest && main.folder) store.saveSettings({ [MAIN_MODEL_FOLDER]: main.folder });
    return new Collection(db, store, main, opts.model ?? {}, opts.concepts ?? {});
  }

  /**
   * A folder of this node's own for `kind` (thumbnails, uploads): inside the index folder, or
   * for a collection in object storage under the cache folder, by a digest of its address.
   */
  localDir(kind: 'thumbs' | 'uploads'): string {
    if (!isRemoteDb(this.db)) return path.join(this.db, kind);
    return path.join(resolvePaths().cacheDir, kind, createHash('sha256').update(this.db).digest('hex').slice(0, 16));
  }

  /** What the main model offers. */
  get capabilities(): ModelCapabilities {
    return { imageEmbedding: true, classes: this.store.manifest.numClasses, textTower: isVisionLanguage(this.mainModel) };
  }

  /** The main image model, loaded once. */
  imageEncoder(): Promise<ImageEncoder> {
    this.encoder ??= import('./models/load-encoder.js').then(({ loadImageEncoder }) =>
      loadImageEncoder({ ...this.modelOptions, id: this.mainModel.id, ...(this.mainModel.folder ? { folder: this.mainModel.folder } : {}) }),
    );
    this.encoder.catch(() => (this.encoder = null));
    return this.encoder;
  }

  /** The main model's text tower (CLIP-family main models only), loaded once. */
  private mainTextModel(): Promise<ClipModel> {
    this.mainText ??= (async () => {
      const { ClipModel } = await import('./models/clip/clip-model.js');
      const opts = { ...this.modelOptions, towers: ['text' as const], id: this.mainModel.id };
      return this.mainModel.folder ? ClipModel.load(this.mainModel.folder, opts) : ClipModel.load(this.mainModel.spec!, opts);
    })();
    this.mainText.catch(() => (this.mainText = null));
    return this.mainText;
  }

  /** The worker's model settings for the main model. */
  private mainModelConfig(): Record<string, unknown> {
    const { paths, download } = this.modelOptions;
    return { id: this.mainModel.id, ...(this.mainModel.folder ? { folder: this.mainModel.folder } : {}), paths, download };
  }

  /**
   * The embedding workers, started once and kept for later index() calls (a server adding
   * images, a watcher): starting them costs a model load per worker.
   */
  embeddingPool(opts: { workers?: number; batchSize?: number; maxPixels?: number } = {}): Promise<EmbedPool> {
    const key = JSON.stringify([opts.workers, opts.batchSize, opts.maxPixels]);
    if (this.pool?.key === key) return this.pool.promise;
    const previous = this.pool?.promise;
    const promise = (async () => {
      await previous?.then((p) => p.close()).catch(() => undefined);
      // Resolved (downloaded if need be) here, where progress can be shown; workers then find the files.
      if (this.mainModel.spec) await resolveModel(this.mainModel.spec, this.modelOptions);
      return EmbedPool.start({
        workers: opts.workers,
        batchSize: opts.batchSize,
        maxPixels: opts.maxPixels ?? DEFAULT_MAX_PIXELS,
        model: this.mainModelConfig(),
      });
    })();
    this.pool = { promise, key };
    promise.catch(() => {
      if (this.pool?.promise === promise) this.pool = null;
    });
    return promise;
  }

  /** Starts the embedding workers now rather than on the first image that needs them. */
  async warmUp(opts: { workers?: number; batchSize?: number; maxPixels?: number } = {}): Promise<void> {
    await this.embeddingPool(opts);
  }

  /**
   * Adds or refreshes folders, image files and catalogues (CSV, TSV, JSON Lines, JSON); then
   * brings the further embedding spaces and the optional stages the collection has prepared
   * (localisation, categories) up to date for the new images.
   */
  async index(sources: readonly string[], opts: CollectionIndexOptions = {}): Promise<CollectionIndexSummary> {
    if (sources.length === 0) throw new VisorError('QUERY_INVALID', 'nothing to index: give folders, images or catalogues');
    // Checked before any work: a mistyped --space should not cost an indexing run.
    const { spaceModelFor, spaceModelOf, fillSpace } = await import('./ingest/space-fill.js');
    const named = opts.space === undefined ? null : spaceModelFor(opts.space, this.modelOptions.paths);
    if (opts.facts !== undefined) await this.setFactStages(opts.facts);
    // A shared collection coordinates its writers by leases in the store, not a local lock file.
    const release = isRemoteDb(this.db) ? () => undefined : acquireWriteLock(this.db);
    try {
      const start = ({ maxPixels }: { maxPixels: number }) =>
        this.embeddingPool({ workers: opts.workers, batchSize: opts.batchSize, maxPixels: opts.maxPixels === undefined ? undefined : maxPixels });
      const summary: CollectionIndexSummary = { ...(await indexSources(this.store, start, sources, opts)), spaces: [] };
      if (summary.interrupted) return summary;
      const spaces = this.store.spaces().map((s) => spaceModelOf(s, this.modelOptions.paths));
      if (named && !spaces.some((s) => s.name === named.name)) spaces.push(named);
      for (const space of spaces) {
        const filled = await fillSpace(
          this.store,
          space.name,
          { model: space.spec?.id ?? space.name, ...(space.folder ? { folder: space.folder } : {}) },
          () => this.spacePool(space, opts),
          { signal: opts.signal, maxFileBytes: opts.maxFileBytes, onProgress: opts.onSpaceProgress },
        );
        summary.spaces.push(filled);
        summary.interrupted ||= filled.interrupted;
      }
      if (summary.spaces.some((s) => s.embedded > 0)) await this.store.optimize();
      if (!summary.interrupted) {
        const stages = await this.refreshStages(opts.onStageProgress);
        if (stages) summary.stages = stages;
        summary.facts = await this.fillFacts(opts);
        summary.interrupted ||= summary.facts.interrupted;
        if (!summary.interrupted) {
          const graph = await this.neighbourGraph();
          if (opts.imageRerank) graph.setDefaults({ image: opts.imageRerank });
          summary.graph = await graph.refresh({ onProgress: (p) => opts.onStageProgress?.({ stage: 'neighbour graph', ...p }) });
        }
      }
      return summary;
    } finally {
      // A space's workers are not kept: unlike the image features, spaces fill in bulk, rarely.
      for (const p of this.spacePools.splice(0)) await p.close();
      release();
    }
  }

  /**
   * Indexes through a queue (NATS JetStream, connected by the caller): this process gathers
   * and compares the sources and queues what needs embedding as batches for `visor worker`
   * processes on any number of machines, then applies removals and path changes once every
   * batch is done. Further spaces and the optional stages are not brought up to date here.
   */
  async indexWithQueue(sources: readonly string[], nc: NatsConnection, opts: DistributedIndexOptions = {}): Promise<DistributedIndexSummary> {
    if (sources.length === 0) throw new VisorError('QUERY_INVALID', 'nothing to index: give folders, images or catalogues');
    const [{ indexWithQueue }, { NatsLeases }] = await Promise.all([import('./ingest/distributed/coordinator.js'), import('./queue/nats-lease.js')]);
    // A local run on the same folder would not see the workers' claims: keep it out.
    const release = isRemoteDb(this.db) ? () => undefined : acquireWriteLock(this.db);
    const leases = await NatsLeases.open(nc, this.db);
    try {
      return await indexWithQueue(this.store, this.db, nc, leases, sources, opts);
    } finally {
      await leases.close();
      release();
    }
  }

  /**
   * Works for distributed indexing: takes the collection's batches from the queue and embeds
   * and stores them, until stopped (or idle for opts.idleExitMs). The collection is opened on
   * the first batch: the coordinator creates it.
   */
  static async work(nc: NatsConnection, opts: QueueWorkerOptions = {}): Promise<IngestWorkerSummary> {
    const { runIngestWorker } = await import('./ingest/distributed/worker.js');
    const db = opts.db ?? resolvePaths().defaultDb;
    let collection: Collection | null = null;
    try {
      return await runIngestWorker(
        nc,
        isRemoteDb(db) ? db : path.resolve(db),
        async () => {
          const c = (collection ??= await Collection.open({ db, model: opts.model, queue: opts.queue }));
          return { store: c.store, pool: (maxPixels: number) => c.embeddingPool({ workers: opts.threads, batchSize: opts.batchSize, maxPixels }) };
        },
        opts,
      );
    } finally {
      await (collection as Collection | null)?.close();
    }
  }

  /**
   * The optional stages (localisation, categories), kept in side tables and used by the narrow,
   * localize and rerank stages of a search. Loaded on first use.
   */
  stagesData(): Promise<import('./domain/stages.js').DomainStages> {
    if (this.mainModel.id !== MOBILENET_V2_INT8.id) {
      // Localisation and the classifiers read MobileNetV2's features and activation maps.
      return Promise.reject(
        new VisorError(
          'QUERY_INVALID',
          `the optional stages (localize, categorize, narrow, rerank) need a MobileNetV2 collection; this one's main model is ${this.mainModel.id}`,
        ),
      );
    }
    // Localising by objects reads the stored facts, or runs the detector where they are missing.
    const detections = async () => ({
      stored: (ids: readonly string[]) => this.facts(ids),
      detect: (bytes: Buffer) => this.computeFacts(bytes, ['objects']),
      close: async () => {},
    });
    this.domainStages ??= import('./domain/stages.js').then(({ DomainStages }) => DomainStages.open(this.store, this.modelOptions, detections));
    this.domainStages.catch(() => (this.domainStages = null));
    return this.domainStages;
  }

  /** Runs the stages the collection has prepared on images that lack them; a line per stage, or undefined when none is prepared. */
  async refreshStages(onProgress?: (p: { stage: string; done: number; total: number }) => void): Promise<string[] | undefined> {
    const { domainSettings } = await import('./domain/settings.js');
    const settings = domainSettings(this.store);
    if (!settings.localize && !settings.categorize) return undefined;
    const stages = await this.stagesData();
    const lines: string[] = [];
    if (settings.localize) {
      const s = await stages.localizeItems({ method: settings.localize.method, onProgress });
      lines.push(`localised ${s.localized} new (${s.found} with an object found)${s.failed.length ? `, ${s.failed.length} failed` : ''}`);
    }
    if (settings.categorize) {
      const s = await stages.categorizeItems({ predictor: settings.categorize.predictor, catalogueColumn: settings.categorize.catalogueColumn, onProgress });
      lines.push(`categorised ${s.categorized} new`);
    }
    return lines;
  }

  /** The fact stages this collection computes (its saved choice, or the defaults), in reading order. */
  async factStages(): Promise<FactStage[]> {
    const { factStages } = await import('./facts/settings.js');
    return factStages(this.store);
  }

  /**
   * Chooses the fact stages this collection computes ("objects", "colours", "text"): a stage
   * switched on is computed for the existing images on the next index run (nothing is
   * re-embedded); one switched off keeps its stored facts, which facts() and search leave out
   * until it is switched on again.
   */
  async setFactStages(stages: readonly string[]): Promise<FactStage[]> {
    const { parseFactStages, saveFactStages } = await import('./facts/settings.js');
    return saveFactStages(this.store, parseFactStages(stages));
  }

  /** The facts table (item id → ImageFacts), opened once: what search and filters read. */
  factsTable(): Promise<FactsTable> {
    this.factsReader ??= import('./facts/facts-table.js').then(({ FactsTable }) => FactsTable.open(this.store));
    this.factsReader.catch(() => (this.factsReader = null));
    return this.factsReader;
  }

  /** What these images show, by item id (those with facts), limited to the stages switched on. */
  async facts(ids: readonly string[]): Promise<Map<string, ImageFacts>> {
    const [table, stages] = await Promise.all([this.factsTable(), this.factStages()]);
    return table.get(ids, stages);
  }

  /**
   * Computes the facts the collection's items lack (index() does this after embedding): only
   * the stages switched on that an item has not had, on worker threads started only when there
   * is work.
   */
  async fillFacts(
    opts: Pick<CollectionIndexOptions, 'facts' | 'workers' | 'maxPixels' | 'maxFileBytes' | 'signal' | 'onStageProgress'> = {},
  ): Promise<FactsFillSummary & { people?: import('./faces/people.js').PeopleUpdate }> {
    if (opts.facts !== undefined) await this.setFactStages(opts.facts);
    const [{ fillFacts }, { FactsPool }, { prepareFactReaders }, stages, table] = await Promise.all([
      import('./ingest/facts-fill.js'),
      import('./ingest/facts-pool.js'),
      import('./facts/readers.js'),
      this.factStages(),
      this.factsTable(),
    ]);
    // The faces stage's faces go to their own table, then are grouped into persons.
    const people = stages.includes('faces') ? await this.peopleTables() : null;
    const { storeFaces } = await import('./faces/faces-fill.js');
    const summary = await fillFacts(
      this.store,
      stages,
      (needed) =>
        this.factsPool(async () => {
          await prepareFactReaders(needed, this.modelOptions);
          return FactsPool.start({ stages: needed, workers: opts.workers, maxPixels: opts.maxPixels ?? DEFAULT_MAX_PIXELS, paths: this.modelOptions.paths });
        }, [needed, opts.workers, opts.maxPixels]),
      {
        signal: opts.signal,
        maxFileBytes: opts.maxFileBytes,
        onProgress: opts.onStageProgress,
        table,
        ...(people ? { beforeCommit: (rows) => storeFaces(people.faces, rows) } : {}),
      },
    );
    if (!people || summary.interrupted) return summary;
    return { ...summary, people: await people.update(new Set((await this.store.fileStates()).map((s) => s.id))) };
  }

  /** The faces and persons tables, opened once. */
  private peopleTables(): Promise<import('./faces/people.js').People> {
    this.peopleData ??= import('./faces/people.js').then(({ People }) => People.open(this.store));
    this.peopleData.catch(() => (this.peopleData = null));
    return this.peopleData;
  }

  /** The persons found in the collection's photos, most faces first, each with its clearest face. */
  async people(): Promise<import('./faces/people.js').PersonSummary[]> {
    return (await this.peopleTables()).list();
  }

  /** A person with the ids of its faces and of the images they are in (by id or name). */
  async person(ref: string): Promise<import('./faces/people.js').PersonSummary & { faceIds: string[]; items: string[] }> {
    const p = await this.peopleTables();
    const person = await p.resolve(ref);
    const summary = (await p.list()).find((s) => s.id === person.id)!;
    const snap = await p.faces.all();
    const faces = person.faces.filter((f) => snap.byId.has(f));
    return { ...summary, faceIds: faces, items: [...new Set(faces.map((f) => snap.byId.get(f)!.item))] };
  }

  /** Names a person; the name stays through later regrouping. */
  async namePerson(ref: string, name: string): Promise<import('./faces/people.js').PersonSummary> {
    return (await this.peopleTables()).name(ref, name);
  }

  /** The user says these persons are one. */
  async mergePersons(refs: readonly string[]): Promise<import('./faces/people.js').PersonSummary> {
    return (await this.peopleTables()).merge(refs);
  }

  /** The user says these faces of a person are someone else's: a person of their own, kept apart. */
  async splitPerson(ref: string, faceIds: readonly string[]): Promise<import('./faces/people.js').PersonSummary> {
    return (await this.peopleTables()).split(ref, faceIds);
  }

  /** The user says a face is not its person's; the person it went to instead, if any. */
  async removeFace(faceId: string): Promise<string | undefined> {
    return (await this.peopleTables()).removeFace(faceId);
  }

  /** A stored face's box in its image's pixels, or null when there is no such face. */
  async faceBox(faceId: string): Promise<[number, number, number, number] | null> {
    return (await (await this.peopleTables()).faces.all()).byId.get(faceId)?.box ?? null;
  }

  /** Deletes a person with its faces and their embeddings. */
  async forgetPerson(ref: string): Promise<{ id: string; faces: number }> {
    // The faces table is rewritten on disk: no indexing run may write it meanwhile.
    const release = isRemoteDb(this.db) ? () => undefined : acquireWriteLock(this.db);
    try {
      return await (await this.peopleTables()).forget(ref);
    } finally {
      release();
    }
  }

  /** Who is in the photos, as search reads it. */
  private peopleView(): PeopleView {
    this.peopleRows ??= new PeopleView(
      peopleSource(
        () => this.peopleTables(),
        async (bytes) => (await this.computeFacts(bytes, ['faces'])).faces ?? [],
        SAME_FACE,
      ),
    );
    return this.peopleRows;
  }

  /**
   * The facts workers, kept for later index() calls with the same stages (a server adding
   * images one upload at a time would otherwise load the readers' models for each); the pass
   * closes what it is given, so it is given a handle whose close() keeps them.
   */
  private async factsPool(
    start: () => Promise<import('./ingest/facts-pool.js').FactsPool>,
    settings: unknown[],
  ): Promise<import('./ingest/facts-pool.js').FactsRunner> {
    const key = JSON.stringify(settings);
    if (this.factsWorkers?.key !== key) {
      const previous = this.factsWorkers?.promise;
      const promise = (async () => {
        await previous?.then((p) => p.close()).catch(() => undefined);
        return start();
      })();
      this.factsWorkers = { key, promise };
      promise.catch(() => {
        if (this.factsWorkers?.promise === promise) this.factsWorkers = null;
      });
    }
    const pool = await this.factsWorkers.promise;
    return { readers: pool.readers, compute: (job) => pool.compute(job), close: async () => undefined };
  }

  /** Embedding workers running a space's image tower (closed when the index run ends). */
  private async spacePool(space: SpaceModel, opts: CollectionIndexOptions): Promise<EmbedPool> {
    const { paths, download } = this.modelOptions;
    if (space.spec) await resolveModel(space.spec, this.modelOptions); // downloaded here, once, not per worker
    const pool = await EmbedPool.start({
      workers: opts.workers,
      batchSize: opts.batchSize,
      maxPixels: opts.maxPixels ?? DEFAULT_MAX_PIXELS,
      model: { id: space.spec?.id ?? space.name, ...(space.folder ? { folder: space.folder } : {}), paths, download },
    });
    this.spacePools.push(pool);
    return pool;
  }

  /** A space's vision–language model with the given towers, loaded once. */
  spaceModel(name: string, tower: 'image' | 'text'): Promise<ClipModel> {
    const key = `${name}\0${tower}`;
    let m = this.spaceModels.get(key);
    if (!m) {
      const info = this.store.spaces().find((s) => s.name === name);
      if (!info) {
        const have = this.store.spaces().map((s) => s.name);
        throw new VisorError(
          'NOT_FOUND',
          `index at ${this.db} has no embedding space ${JSON.stringify(name)} (${have.length ? `it has: ${have.join(', ')}` : 'it has none'}); add one with 'visor index <folder> --space ${name}'`,
        );
      }
      m = (async () => {
        const { spaceModelOf } = await import('./ingest/space-fill.js');
        const { ClipModel } = await import('./models/clip/clip-model.js');
        const space = spaceModelOf(info, this.modelOptions.paths);
        const opts = { ...this.modelOptions, towers: [tower], id: space.name };
        return space.folder ? ClipModel.load(space.folder, opts) : ClipModel.load(space.spec!, opts);
      })();
      this.spaceModels.set(key, m);
      m.catch(() => this.spaceModels.delete(key));
    }
    return m;
  }

  /** Query images into the main features (as the indexer embeds them) or into a further space. */
  private readonly queryEncoders: QueryEncoders = async (space) => {
    const { contentId } = await import('./ingest/read-image.js');
    if (space === undefined) {
      const [{ encodeImage }, encoder] = await Promise.all([import('./search/encode-image.js'), this.imageEncoder()]);
      return { encodeImage: (bytes, maxPixels) => encodeImage(encoder, bytes, maxPixels) } satisfies QueryImageEncoder;
    }
    const model = await this.spaceModel(space, 'image');
    return {
      encodeImage: async (bytes, maxPixels) => ({ id: contentId(bytes), vector: await model.encodeImages([bytes], { maxPixels }), probs: new Float32Array(0) }),
    };
  };

  /**
   * The collection's signals, in fusion order: composed, visual, keywords, then the readers of
   * words its models allow — visual concepts (a main model with classes), a trained joint model
   * (when one is recorded or chosen), text towers (a CLIP-family main model; further spaces).
   */
  private signals(): Promise<Signal[]> {
    const joint = this.jointRef ?? (this.store.manifest.settings.textModel as string | undefined) ?? '';
    const key = JSON.stringify([joint, this.store.spaces().map((s) => s.name)]);
    if (this.signalList?.key === key) return this.signalList.signals;
    const signals = (async () => {
      const [{ ComposedSignal }, { VisualSignal }, { KeywordSignal }, { TextSignal }, { TextTowerScorer }] = await Promise.all([
        import('./search/signals/composed.js'),
        import('./search/signals/visual.js'),
        import('./search/signals/keywords.js'),
        import('./search/signals/text.js'),
        import('./search/signals/text-tower.js'),
      ]);
      const caps = this.capabilities;
      const concepts = caps.classes > 0 && this.conceptOptions !== false;
      const list: Signal[] = [
        new ComposedSignal({
          concepts: async () => (concepts ? (await this.conceptModel()).signal : undefined),
          mainText: async () => (caps.textTower ? async (text: string) => (await this.mainTextModel()).encodeText([text]) : undefined),
        }),
        new VisualSignal(),
        new KeywordSignal(),
      ];
      if (concepts) list.push(new TextSignal('concepts', (await this.conceptModel()).signal));
      if (joint) {
        const { JointTextSignal } = await import('./search/signals/joint.js');
        list.push(new TextSignal('joint', new JointTextSignal(this.store, () => this.textModel())));
      }
      // What the fact stages read in the images (they say nothing until some image was read).
      const [{ ObjectsSignal }, { PrintedTextSignal }] = await Promise.all([import('./search/signals/objects.js'), import('./search/signals/printed.js')]);
      list.push(new ObjectsSignal(this.factsView(), () => this.objectWords()), new PrintedTextSignal(this.factsView()));
      list.push(new (await import('./search/signals/people.js')).PeopleSignal(this.peopleView()));
      for (const s of this.store.spaces()) list.push(new TextSignal('clip', new TextTowerScorer(this.store, s.name, () => this.spaceModel(s.name, 'text'))));
      if (caps.textTower) list.push(new TextSignal('clip', new TextTowerScorer(this.store, undefined, () => this.mainTextModel())));
      return list;
    })();
    this.signalList = { key, signals };
    signals.catch(() => {
      if (this.signalList?.signals === signals) this.signalList = null;
    });
    return signals;
  }

  /** The per-image facts as search reads them, aligned with the rows of each search. */
  private factsView(): FactsView {
    // The stages switched on only: one switched off keeps its facts, unread until it is back on.
    this.factsRows ??= new FactsView({
      version: async () => `${await (await this.factsTable()).version()}:${await this.store.version()}:${(await this.factStages()).join(',')}`,
      all: async () => (await this.factsTable()).all(await this.factStages()),
    });
    return this.factsRows;
  }

  /** Query words → detector classes (WordNet), loaded once. */
  private objectWords(): Promise<ObjectWords> {
    this.objectVocabulary ??= (async () => {
      const [{ loadWordNet }, { CocoWords }, { FUNCTION_WORDS }] = await Promise.all([
        import('./concepts/wordnet.js'),
        import('./concepts/coco-words.js'),
        import('./text/words.js'),
      ]);
      const wn = await loadWordNet();
      return {
        words: new CocoWords(wn),
        // As the concept reader: a word used at least as often as a noun as otherwise ("dog", not "black").
        isNoun: (w: string) => {
          if (FUNCTION_WORDS.has(w)) return false;
          const u = wn.usage(w);
          return u.noun >= Math.max(u.verb, u.adj, u.adv);
        },
      };
    })();
    this.objectVocabulary.catch(() => (this.objectVocabulary = null));
    return this.objectVocabulary;
  }

  /** Filters over the facts: object counts in `where`, and `colour`. */
  private async filters(): Promise<RowFilter[]> {
    const [{ FactFilter }, { COCO_SENSES }] = await Promise.all([import('./search/fact-filter.js'), import('./concepts/coco-words.js')]);
    const catalogue = new Set(Object.keys(await this.store.metaColumns()));
    return [
      new (await import('./search/people-filter.js')).PeopleFilter(this.peopleView()),
      new FactFilter(
        this.factsView(),
        COCO_SENSES.map(([label]) => label),
        () => catalogue,
      ),
    ];
  }

  /** The optional stages of a search (narrow, localize, rerank), over the prepared side tables. */
  private async stages(): Promise<Stage[]> {
    this.stageList ??= import('./search/stages/index.js').then(({ optionalStages }) => optionalStages(() => this.stagesData()));
    this.stageList.catch(() => (this.stageList = null));
    return [(await this.neighbourGraph()).stage, ...(await this.stageList).stages];
  }

  /** The collection's neighbour graph: its re-ranking defaults, its refresh (docs/reranking.md). */
  neighbourGraph(): Promise<import('./search/neighbours/collection-graph.js').CollectionGraph> {
    this.neighbours ??= import('./search/neighbours/collection-graph.js').then(({ CollectionGraph }) => new CollectionGraph(this.store));
    return this.neighbours;
  }

  /**
   * The general search: words (with -negative terms), query images and items, items to move
   * towards or away from, composed queries, filters, weights and stages, fused into one ranking
   * with a reason per result. Every other search method is a query through this one.
   */
  async search(query: Query): Promise<SearchResponse> {
    if (!this.pipeline) {
      const { SearchPipeline } = await import('./search/pipeline.js');
      this.pipeline = new SearchPipeline({
        store: this.store,
        encoders: this.queryEncoders,
        signals: () => this.signals(),
        stages: () => this.stages(),
        filters: () => this.filters(),
      });
    }
    return this.pipeline.search(query);
  }

  /**
   * The concept space (WordNet over the image model's classes), its text signal and its tagger,
   * loaded once. Needs only the class list, not the image model.
   */
  conceptModel(): Promise<{ space: ConceptSpace; tagger: Tagger; signal: ConceptSignal }> {
    this.concepts ??= (async () => {
      const [{ imagenetClasses }, { loadConceptSpace }, { Tagger }, { ConceptSignal }] = await Promise.all([
        import('./models/mobilenet.js'),
        import('./concepts/concept-space.js'),
        import('./concepts/tags.js'),
        import('./search/signals/concepts.js'),
      ]);
      const space = await loadConceptSpace(await imagenetClasses(this.modelOptions));
      const words =
        this.conceptOptions && this.conceptOptions.wordVectors === false
          ? undefined
          : await (await import('./concepts/load-vector-concepts.js')).loadVectorConcepts(space);
      return {
        space,
        tagger: new Tagger(space),
        signal: new ConceptSignal(
          space,
          this.store,
          this.conceptOptions || {},
          () => this.store.vectors(),
          (q) => this.store.scoreAll('vector', q, 1),
          words,
        ),
      };
    })();
    this.concepts.catch(() => (this.concepts = null));
    return this.concepts;
  }

  /**
   * Words that describe an image (a path, its bytes, or an indexed item's id), best first: the
   * main model's class probabilities read through the concept space, or for a vision–language
   * main model its text tower scored against the same vocabulary.
   */
  async tags(image: string | Buffer | { id: string }, opts: TagOptions = {}): Promise<Tag[]> {
    const { tagger, space } = await this.conceptModel();
    let vector: Float32Array;
    let probs: Float32Array;
    if (typeof image === 'object' && !Buffer.isBuffer(image)) {
      const [item] = await this.store.getItemsWithVectors([image.id]);
      if (!item) throw new VisorError('NOT_FOUND', `no item with id ${image.id}`);
      ({ vector, probs } = item);
    } else {
      const bytes = typeof image === 'string' ? await readQueryImage(image) : image;
      const { encodeImage } = await import('./search/encode-image.js');
      ({ vector, probs } = await encodeImage(await this.imageEncoder(), bytes));
    }
    if (probs.length === 0 && this.capabilities.textTower) {
      const { vocabularyProbabilities } = await import('./concepts/tower-tags.js');
      probs = await vocabularyProbabilities(space, vector, await this.mainTextModel());
    }
    if (probs.length === 0) throw new VisorError('QUERY_INVALID', `${this.mainModel.id} gives no classes and has no text tower: it cannot tag images`);
    return tagger.tags(probs, opts);
  }

  /** Facts computed for imageFacts, by readers loaded on first use and kept until close. */
  private async computeFacts(bytes: Buffer, stages: readonly FactStage[], existing?: ImageFacts): Promise<ImageFacts> {
    const { FactsOnDemand } = await import('./facts/on-demand.js');
    this.onDemand ??= new FactsOnDemand({ paths: this.modelOptions.paths });
    return this.onDemand.compute(bytes, stages, existing);
  }

  /**
   * What an image shows, in words (objects, colours, text). An indexed item (by id, or a file
   * whose content is indexed) has the facts stored when it was indexed: null when it has none.
   * Another file's are computed now when `compute` says by which stages ('enabled': those the
   * collection has switched on; null when it has none); without `compute` it is an error.
   * Stored facts that lack a stage `compute` names are completed the same way.
   */
  async imageFacts(image: string | Buffer | { id: string }, opts: { compute?: 'enabled' | readonly FactStage[] } = {}): Promise<ImageFacts | null> {
    const byId = typeof image === 'object' && !Buffer.isBuffer(image);
    let bytes = byId ? null : typeof image === 'string' ? await readQueryImage(image) : image;
    const id = byId ? image.id : (await import('./ingest/read-image.js')).contentId(bytes!);
    const [item] = await this.items([id]);
    if (!item && byId) throw new VisorError('NOT_FOUND', `no item with id ${id}`);
    const stored = item ? ((await this.facts([id])).get(id) ?? null) : null;
    if (!opts.compute) {
      if (!item) throw new VisorError('QUERY_INVALID', 'facts (objects, colours, text) are read when an image is indexed: index it first');
      return stored;
    }
    const stages = opts.compute === 'enabled' ? await this.factStages() : opts.compute;
    if (stages.length === 0 || (stored && stages.every((s) => stored.stages[s] !== undefined))) return stored;
    bytes ??= await readIndexedFile(item!);
    return this.computeFacts(bytes, stages, stored ?? undefined);
  }

  /**
   * Images most like `image` (a path or the file's bytes); with `space`, by that embedding
   * space's model (e.g. CLIP) instead of the main image features.
   */
  async searchImage(image: ImageRef, opts: ImageQueryOptions & { space?: string } = {}): Promise<RankedResult[]> {
    const { space, excludeSelf, maxPixels, ...page } = opts;
    return (await this.search({ images: [image], space, excludeSelf, maxPixels, ...page })).results;
  }

  /** Images most like an indexed item (itself first, unless excludeSelf). */
  async searchSimilar(id: string, opts: ImageQueryOptions = {}): Promise<RankedResult[]> {
    return this.searchImage({ id }, opts);
  }

  /**
   * Records the joint text–image model this collection is searched with by text (kept in
   * visor.json as an absolute path with its sha256), after checking it reads this index's features.
   */
  async setTextModel(ref: string): Promise<{ file: string; sha256: string; name: string }> {
    const { resolveJointModel } = await import('./models/resolve.js');
    const { readJointHeader } = await import('./models/joint-format.js');
    const file = resolveJointModel(ref);
    const header = readJointHeader(file);
    if (header.imageModel !== this.store.manifest.imageModel) {
      throw new VisorError('INDEX_INCOMPATIBLE', `${file} reads ${header.imageModel} features; this index holds ${this.store.manifest.imageModel}`);
    }
    const sha256 = (await import('node:crypto')).createHash('sha256').update(fs.readFileSync(file)).digest('hex');
    this.store.saveSettings({ textModel: file, textModelSha256: sha256 });
    return { file, sha256, name: header.name };
  }

  /** Searches by text with this joint model in this session, whatever the index records. */
  useTextModel(ref: string): void {
    this.jointRef = ref;
  }

  /** The joint model for text queries: `ref` if given, else useTextModel's, else the one recorded by setTextModel. */
  textModel(ref?: string): Promise<JointModel> {
    const chosen = ref ?? this.jointRef ?? (this.store.manifest.settings.textModel as string | undefined);
    if (!chosen) {
      return Promise.reject(
        new VisorError('QUERY_INVALID', "text search needs a joint model: 'visor index <dir> --text-model <file.joint>' or --text-model <file.joint>"),
      );
    }
    if (this.joint?.ref !== chosen) {
      const previous = this.joint?.promise;
      void previous?.then((m) => m.close()).catch(() => undefined);
      this.joint = { ref: chosen, promise: import('./models/joint-model.js').then(({ JointModel }) => JointModel.load(chosen)) };
    }
    return this.joint.promise;
  }

  /** Removes paths (files, or everything under a folder) from the index. */
  async remove(targets: readonly string[]): Promise<RemoveSummary> {
    const release = isRemoteDb(this.db) ? () => undefined : acquireWriteLock(this.db);
    try {
      const ledger = new PathLedger();
      const wanted = targets.map((t) => path.resolve(t));
      const states = await this.store.fileStates();
      const hit = new Set<string>();
      let removedPaths = 0;
      for (const s of states) {
        const t = wanted.find((w) => s.path === w || s.path.startsWith(w.endsWith(path.sep) ? w : w + path.sep));
        if (t) {
          ledger.detach(s.id, s.path);
          hit.add(t);
          removedPaths++;
        }
      }
      const { deletedItems } = await ledger.apply(this.store);
      if (removedPaths > 0) {
        await this.store.optimize();
        await (await this.neighbourGraph()).refresh();
      }
      return { removedPaths, removedItems: deletedItems, notIndexed: wanted.filter((w) => !hit.has(w)) };
    } finally {
      release();
    }
  }

  /**
   * The index's version: it changes with every write, to the items or to their facts (answers
   * cached under one stay valid until then). Both counters only grow, so their sum moves with either.
   */
  async version(): Promise<number> {
    const [items, facts, people] = await Promise.all([
      this.store.version(),
      this.factsTable().then((t) => t.version()),
      // Naming or merging persons changes what a search by person answers.
      this.peopleTables().then(async (p) => (await p.faces.version()) + (await p.persons.version())),
    ]);
    return items + facts + people;
  }

  /** Indexed items by id (content hash), in the order asked; unknown ids are left out. */
  async items(ids: readonly string[]): Promise<StoredItem[]> {
    return this.store.getItems(ids);
  }

  /** Removes items by id: every path holding that content leaves the index (the files are untouched). */
  async removeItems(ids: readonly string[]): Promise<RemoveSummary & { notFound: string[] }> {
    const found = await this.store.getItems(ids);
    const notFound = ids.filter((id) => !found.some((f) => f.id === id));
    const summary = found.length ? await this.remove(found.flatMap((f) => f.paths)) : { removedPaths: 0, removedItems: 0, notIndexed: [] };
    return { ...summary, notFound };
  }

  /** Groups of near-duplicate images (edited copies of one picture), each with a confidence; see src/duplicates/. */
  async duplicates(opts: DuplicateOptions = {}): Promise<DuplicateReport> {
    const [{ findDuplicates }, { describeGroups }] = await Promise.all([import('./duplicates/find-duplicates.js'), import('./duplicates/groups.js')]);
    const started = performance.now();
    const finding = await findDuplicates(this.duplicateSource(), opts);
    return describeGroups(finding, (ids) => this.store.getItems(ids), (performance.now() - started) / 1000);
  }

  /** The copies of one indexed item (by id), surest first. */
  async duplicatesOf(
    id: string,
    opts: Omit<DuplicateOptions, 'onProgress'> = {},
  ): Promise<Array<{ item: DuplicateItem; confidence: number; mirrored: boolean; similarity: number }>> {
    const [{ duplicatesOfItem }, { describeItem }] = await Promise.all([import('./duplicates/find-duplicates.js'), import('./duplicates/groups.js')]);
    const [self] = await this.store.getItemsWithVectors([id]);
    if (!self) throw new VisorError('NOT_FOUND', `no indexed item ${id}`);
    const source = {
      ...this.duplicateSource(),
      neighbours: (_: string, k: number) => this.store.search(self.vector, { k, exclude: new Set([id]) }),
    };
    const found = await duplicatesOfItem(source, id, opts);
    const items = new Map((await this.store.getItems(found.map((f) => f.id))).map((s) => [s.id, describeItem(s)]));
    return found.flatMap((f) => (items.has(f.id) ? [{ item: items.get(f.id)!, confidence: f.confidence, mirrored: f.mirrored, similarity: f.similarity }] : []));
  }

  /**
   * Removes the copies in each group of duplicates from the index, keeping the largest (or oldest)
   * image; with `dryRun`, only says what it would remove. The files themselves are untouched.
   */
  async removeDuplicates(
    opts: DuplicateOptions & { keep: KeepRule; dryRun?: boolean },
  ): Promise<{ plan: RemovalStep[]; removed: (RemoveSummary & { notFound: string[] }) | null }> {
    const { removalPlan } = await import('./duplicates/groups.js');
    const plan = removalPlan((await this.duplicates(opts)).groups, opts.keep);
    if (opts.dryRun) return { plan, removed: null };
    return { plan, removed: await this.removeItems(plan.flatMap((p) => p.remove.map((r) => r.id))) };
  }

  /**
   * Search quality on a labelled catalogue: indexes it as `index` does (the label column is
   * checked first), then every image queries all the others, relevant = same label; see src/quality/.
   */
  async evaluateLabels(
    catalogue: string,
    opts: {
      label: string;
      k?: number;
      facts?: readonly string[];
      /** Cross-validate the category classifier on the labels too (default true). */
      classifier?: boolean;
      /** Also the label names as text queries (catalogue fields and file names left out, since they hold the answers). */
      zeroShot?: boolean;
      onIndexProgress?: IndexOptions['onProgress'];
      onProgress?: (done: number, total: number) => void;
      onClassifierProgress?: (done: number, total: number) => void;
    },
  ): Promise<LabelsEvalReport> {
    const { readLabels, evaluateLabels } = await import('./quality/labels-eval.js');
    const data = await readLabels(catalogue, opts.label);
    const summary = await this.index([catalogue], { ...(opts.facts ? { facts: opts.facts } : {}), onProgress: opts.onIndexProgress });
    const report = await evaluateLabels(this.store, data, { label: opts.label, mapAt: opts.k, skipped: summary.skipped, onProgress: opts.onProgress });
    if (opts.classifier !== false) {
      const { classifierAccuracy } = await import('./quality/classifier-eval.js');
      report.classifier = await classifierAccuracy(this.store, data.labelOf, { onProgress: opts.onClassifierProgress });
    }
    if (opts.zeroShot) {
      const { zeroShotLabels } = await import('./quality/zero-shot-eval.js');
      report.zeroShot = await zeroShotLabels(this.store, data.labelOf, (text, k) => this.search({ text, k, lean: true, weights: { keywords: 0 } }));
    }
    return report;
  }

  private duplicateSource(): DuplicateSource {
    return {
      vectors: () => this.store.vectors(),
      searchMany: (queries, count, opts) => this.store.searchMany(queries, count, opts),
      readImage: async (id) => {
        const [item] = await this.store.getItems([id]);
        if (!item) throw new VisorError('NOT_FOUND', `no indexed item ${id}`);
        return readIndexedFile(item);
      },
    };
  }

  async stats(): Promise<CollectionStats> {
    const s = await this.store.stats();
    const m = this.store.manifest;
    return {
      db: this.db,
      items: s.items,
      files: s.files,
      duplicatePaths: s.files - s.items,
      imageModel: m.imageModel,
      dimension: m.dimension,
      schemaVersion: m.schemaVersion,
      createdAt: m.createdAt,
      search: s.annIndex ? 'ann' : 'exact',
      annIndex: s.annIndex,
      metaColumns: s.metaColumns,
      bytesOnDisk: await diskUsage(this.db),
      ...(m.shards ? { shards: m.shards } : {}),
      spaces: await Promise.all(
        this.store.spaces().map(async (sp) => ({ name: sp.name, model: sp.model, dimension: sp.dimension, items: (await this.store.spaceIds(sp.name)).size })),
      ),
    };
  }

  /** Whether the collection is shared between machines (in object storage), so several nodes may read and write it. */
  get shared(): boolean {
    return isRemoteDb(this.db);
  }

  /**
   * Upkeep of a shared collection (compaction, text and ANN index builds, old versions removed),
   * shard by shard under their leases: a shard another node is maintaining is left to it. Skipped
   * when nothing was committed since this node's last upkeep; true when it ran.
   */
  async maintain(): Promise<boolean> {
    const version = await this.store.version();
    if (version === this.maintainedAt) return false;
    await this.store.optimize();
    this.maintainedAt = await this.store.version();
    return true;
  }

  async close(): Promise<void> {
    const enc = this.encoder;
    const text = this.mainText;
    const pool = this.pool?.promise;
    const joint = this.joint?.promise;
    const stages = this.domainStages;
    const stageList = this.stageList;
    this.stageList = null;
    this.encoder = null;
    this.mainText = null;
    this.pool = null;
    this.joint = null;
    this.domainStages = null;
    await this.onDemand?.close();
    this.onDemand = null;
    const facts = this.factsReader;
    const factsWorkers = this.factsWorkers?.promise;
    this.factsReader = null;
    this.factsWorkers = null;
    (await facts?.catch(() => null))?.close();
    const people = this.peopleData;
    this.peopleData = null;
    this.peopleRows = null;
    (await people?.catch(() => null))?.close();
    if (factsWorkers) await (await factsWorkers.catch(() => null))?.close();
    if (joint) (await joint.catch(() => null))?.close();
    if (enc) await (await enc.catch(() => null))?.close();
    if (text) await (await text.catch(() => null))?.close();
    if (stages) await (await stages.catch(() => null))?.close();
    if (stageList) await (await stageList.catch(() => null))?.close();
    if (pool) await (await pool.catch(() => null))?.close();
    for (const p of this.spacePools.splice(0)) await p.close();
    for (const m of this.spaceModels.values()) await (await m.catch(() => null))?.close();
    this.spaceModels.clear();
    await this.store.close();
  }
}

/** Dimension and class count of a new collection's main model, read from the model itself (loaded once). */
async function describeMainModel(main: MainModelRef, modelOptions: MobileNetOptions): Promise<{ dimension: number; numClasses: number }> {
  const { loadImageEncoder } = await import('./models/load-encoder.js');
  const encoder = await loadImageEncoder({ ...modelOptions, id: main.id, ...(main.folder ? { folder: main.folder } : {}) });
  try {
    return { dimension: encoder.featureDim, numClasses: encoder.numClasses };
  } finally {
    await encoder.close();
  }
}
