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
import { MOBILENET_V2_INT8 } from './models/registry.js';
import { resolveModel } from './models/resolve.js';
import { DEFAULT_MAX_PIXELS } from './image/limits.js';
import type { ImageEncoder } from './models/types.js';
import type { JointModel } from './models/joint-model.js';
import type { ConceptSpace } from './concepts/concept-space.js';
import type { Tag, TagOptions, Tagger } from './concepts/tags.js';
import type { ConceptSignal, ConceptSignalOptions } from './search/concept-signal.js';
import type { SearchEngine, SearchResponse, TextSignal } from './search/engine.js';
import type { ImageQueryOptions } from './search/image-search.js';
import type { Query } from './search/query.js';
import type { SearchOptions, SearchResult } from './search/results.js';
import { LanceStore, type AnnSettings } from './store/lance-store.js';
import type { MetaColumnType, StoredItem } from './store/types.js';
import { acquireWriteLock } from './store/write-lock.js';

export interface CollectionIndexOptions extends IndexOptions {
  /** Embedding worker threads (default: one per core). */
  workers?: number;
  /** Images per model run in each worker (default 8). */
  batchSize?: number;
  /**
   * Also embed every image with this vision–language model (a model id such as clip-vit-b32,
   * or a model folder) into its own space; spaces the index already has are kept up to date.
   */
  model?: string;
  onSpaceProgress?: (p: { space: string; done: number; total: number }) => void;
}

export interface CollectionIndexSummary extends IndexSummary {
  /** The further embedding spaces brought up to date (only items missing from each were embedded). */
  spaces: SpaceFillSummary[];
}

export interface OpenOptions {
  /** Index folder (default: VISOR_DB, else ~/.local/share/visor/index). */
  db?: string;
  /** Create the index when missing (default false: reading a missing index is an error). */
  create?: boolean;
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
  /** Further embedding spaces (e.g. CLIP), with how many items each holds. */
  spaces: Array<{ name: string; model: string; dimension: number; items: number }>;
}

export interface RemoveSummary {
  removedPaths: number;
  removedItems: number;
  notIndexed: string[];
}

function diskUsage(dir: string): number {
  let total = 0;
  for (const e of fs.readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (e.isFile()) total += fs.statSync(path.join(e.parentPath, e.name)).size;
  }
  return total;
}

/**
 * A searchable image collection: its index on disk and the models that fill and query it.
 * Models load on first use, so opening an index to read stats or remove paths is instant.
 */
export class Collection {
  private encoder: Promise<ImageEncoder> | null = null;
  private pool: { promise: Promise<EmbedPool>; key: string } | null = null;
  private joint: { ref: string; promise: Promise<JointModel> } | null = null;
  /** Joint model chosen for this session (useTextModel), over the one the index records. */
  private jointRef: string | undefined;
  private engine: Promise<SearchEngine> | null = null;
  private concepts: Promise<{ space: ConceptSpace; tagger: Tagger; signal: ConceptSignal }> | null = null;
  /** Text signals beyond keywords (visual concepts, trained joint models), registered by features. */
  readonly textSignals: TextSignal[] = [];
  /** Vision–language models of the index's spaces, by space and tower, loaded on first use. */
  private readonly spaceModels = new Map<string, Promise<ClipModel>>();
  private readonly spacePools: EmbedPool[] = [];

  private constructor(
    readonly db: string,
    readonly store: LanceStore,
    private readonly modelOptions: MobileNetOptions,
    private readonly conceptOptions: ConceptSignalOptions | false = {},
  ) {}

  static async open(opts: OpenOptions = {}): Promise<Collection> {
    const db = path.resolve(opts.db ?? resolvePaths().defaultDb);
    const store = await LanceStore.open(db, {
      dimension: 1280,
      numClasses: 1000,
      imageModel: MOBILENET_V2_INT8.id,
      create: opts.create ?? false,
      ann: opts.ann,
    });
    return new Collection(db, store, opts.model ?? {}, opts.concepts ?? {});
  }

  /** The image model, loaded once. */
  imageEncoder(overrides: MobileNetOptions = {}): Promise<ImageEncoder> {
    this.encoder ??= import('./models/mobilenet.js').then(({ MobileNetV2 }) =>
      MobileNetV2.load({ ...this.modelOptions, ...overrides }),
    );
    return this.encoder;
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
      await resolveModel(MOBILENET_V2_INT8, this.modelOptions);
      const { paths, download } = this.modelOptions;
      return EmbedPool.start({
        workers: opts.workers,
        batchSize: opts.batchSize,
        maxPixels: opts.maxPixels ?? DEFAULT_MAX_PIXELS,
        model: { paths, download },
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

  /** Adds or refreshes folders, image files and catalogues (CSV, TSV, JSON Lines, JSON). */
  async index(sources: readonly string[], opts: CollectionIndexOptions = {}): Promise<CollectionIndexSummary> {
    if (sources.length === 0) throw new VisorError('QUERY_INVALID', 'nothing to index: give folders, images or catalogues');
    // Checked before any work: a mistyped --model should not cost an indexing run.
    const { spaceModelFor, spaceModelOf, fillSpace } = await import('./ingest/space-fill.js');
    const named = opts.model === undefined ? null : spaceModelFor(opts.model, this.modelOptions.paths);
    const release = acquireWriteLock(this.db);
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
      return summary;
    } finally {
      // A space's workers are not kept: unlike the image features, spaces fill in bulk, rarely.
      for (const p of this.spacePools.splice(0)) await p.close();
      release();
    }
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
          `index at ${this.db} has no embedding space ${JSON.stringify(name)} (${have.length ? `it has: ${have.join(', ')}` : 'it has none'}); add one with 'visor index <folder> --model ${name}'`,
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

  /** Text signals for the index's embedding spaces, added once each. */
  private async registerSpaceSignals(): Promise<void> {
    const names = this.store.spaces().map((s) => s.name);
    const have = new Set(this.textSignals.map((s) => (s as { space?: string }).space));
    if (names.every((n) => have.has(n))) return;
    const { ClipTextSignal } = await import('./search/clip-signal.js');
    for (const n of names) if (!have.has(n)) this.textSignals.push(new ClipTextSignal(this.store, n, () => this.spaceModel(n, 'text')));
  }

  /**
   * The general search: words (with -negative terms), query images, items to move towards or
   * away from, filters and weights, fused into one ranking with a reason per result.
   */
  async search(query: Query): Promise<SearchResponse> {
    // The joint model joins the text signals once the index (or this session) names one.
    if (!this.textSignals.some((t) => t.name === 'joint') && (this.jointRef ?? this.store.manifest.settings.textModel)) {
      const { JointTextSignal } = await import('./search/joint-signal.js');
      this.textSignals.push(new JointTextSignal(this.store, () => this.textModel()));
    }
    await this.registerSpaceSignals();
    this.engine ??= (async () => {
      const { SearchEngine } = await import('./search/engine.js');
      if (this.conceptOptions !== false && !this.textSignals.some((s) => s.name === 'concepts')) {
        this.textSignals.unshift((await this.conceptModel()).signal);
      }
      return new SearchEngine({ store: this.store, encoder: () => this.imageEncoder(), textSignals: this.textSignals });
    })();
    this.engine.catch(() => (this.engine = null));
    return (await this.engine).search(query);
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
        import('./search/concept-signal.js'),
      ]);
      const space = await loadConceptSpace(await imagenetClasses(this.modelOptions));
      return { space, tagger: new Tagger(space), signal: new ConceptSignal(space, this.store, this.conceptOptions || {}, () => this.store.vectors(), (q) => this.store.scoreAll('vector', q, 1)) };
    })();
    this.concepts.catch(() => (this.concepts = null));
    return this.concepts;
  }

  /** Words that describe an image (a path, its bytes, or an indexed item's id), best first. */
  async tags(image: string | Buffer | { id: string }, opts: TagOptions = {}): Promise<Tag[]> {
    const { tagger } = await this.conceptModel();
    let probs: Float32Array;
    if (typeof image === 'object' && !Buffer.isBuffer(image)) {
      const [item] = await this.store.getItemsWithVectors([image.id]);
      if (!item) throw new VisorError('NOT_FOUND', `no item with id ${image.id}`);
      probs = item.probs;
    } else {
      const bytes = typeof image === 'string' ? await readQueryImage(image) : image;
      const { encodeImage } = await import('./search/image-search.js');
      probs = (await encodeImage(await this.imageEncoder(), bytes)).probs;
    }
    return tagger.tags(probs, opts);
  }

  /**
   * Images most like `image` (a path or the file's bytes); with `space`, by that embedding
   * space's model (e.g. CLIP) instead of the image features.
   */
  async searchImage(image: string | Buffer, opts: ImageQueryOptions & { space?: string } = {}): Promise<SearchResult[]> {
    const bytes = typeof image === 'string' ? await readQueryImage(image) : image;
    if (opts.space) return this.searchImageInSpace(bytes, opts.space, opts);
    const { searchByImage } = await import('./search/image-search.js'); // loads sharp: only when searching by image
    return searchByImage(this.store, await this.imageEncoder(), bytes, opts);
  }

  private async searchImageInSpace(bytes: Buffer, space: string, opts: ImageQueryOptions): Promise<SearchResult[]> {
    const [{ hydrate }, { contentId }] = await Promise.all([import('./search/results.js'), import('./ingest/read-image.js')]);
    const k = opts.k ?? 10;
    const offset = opts.offset ?? 0;
    const model = await this.spaceModel(space, 'image');
    const vector = await model.encodeImages([bytes], { maxPixels: opts.maxPixels ?? DEFAULT_MAX_PIXELS });
    const hits = await this.store.searchSpace(space, vector, {
      k: k + offset,
      where: opts.where,
      exact: opts.exact,
      exclude: new Set(opts.excludeSelf ? [contentId(bytes)] : []),
    });
    return hydrate(this.store, hits, offset);
  }

  /** Images most like an indexed item. */
  async searchSimilar(id: string, opts: ImageQueryOptions = {}): Promise<SearchResult[]> {
    const { searchSimilarTo } = await import('./search/image-search.js');
    return searchSimilarTo(this.store, id, opts);
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

  /** Images best described by a sentence, ranked in the joint text–image space. */
  async searchText(text: string, opts: SearchOptions & { textModel?: string } = {}): Promise<SearchResult[]> {
    const model = await this.textModel(opts.textModel);
    const { searchByText } = await import('./search/text-search.js');
    return searchByText(this.store, model, text, opts);
  }

  /** Removes paths (files, or everything under a folder) from the index. */
  async remove(targets: readonly string[]): Promise<RemoveSummary> {
    const release = acquireWriteLock(this.db);
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
      if (removedPaths > 0) await this.store.optimize();
      return { removedPaths, removedItems: deletedItems, notIndexed: wanted.filter((w) => !hit.has(w)) };
    } finally {
      release();
    }
  }

  /** The index's version: it changes with every write (answers cached under one stay valid until then). */
  async version(): Promise<number> {
    return this.store.version();
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
      bytesOnDisk: diskUsage(this.db),
      spaces: await Promise.all(
        this.store.spaces().map(async (sp) => ({ name: sp.name, model: sp.model, dimension: sp.dimension, items: (await this.store.spaceIds(sp.name)).size })),
      ),
    };
  }

  async close(): Promise<void> {
    const enc = this.encoder;
    const pool = this.pool?.promise;
    const joint = this.joint?.promise;
    this.encoder = null;
    this.pool = null;
    this.joint = null;
    if (joint) (await joint.catch(() => null))?.close();
    if (enc) await (await enc).close();
    if (pool) await (await pool.catch(() => null))?.close();
    for (const p of this.spacePools.splice(0)) await p.close();
    for (const m of this.spaceModels.values()) await (await m.catch(() => null))?.close();
    this.spaceModels.clear();
    await this.store.close();
  }
}

export async function readQueryImage(file: string): Promise<Buffer> {
  try {
    return await fs.promises.readFile(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : code === 'EISDIR' ? 'it is a folder' : (e as Error).message;
    throw new VisorError('IMAGE_UNREADABLE', `cannot read query image ${file}: ${why}`, { cause: e });
  }
}
