import fs from 'node:fs/promises';
import type { CategoryPredictor } from '../classify/category-classifier.js';
import type { FeatureRows } from '../classify/features.js';
import { VisorError, errorMessage } from '../errors.js';
import { DEFAULT_LOCALIZE_METHOD, type LocalizeMethod } from '../localize/localizer.js';
import type { MobileNetOptions } from '../models/mobilenet.js';
import { hydrate, type SearchResult } from '../search/results.js';
import type { ExactKernel } from '../store/exact-kernel.js';
import type { VectorStore } from '../store/port.js';
import { buildDomainIndex, type DomainIndex } from './domain-index.js';
import { chooseCategories, NARROW_BONUS, narrowingBias, type CategoryChoice, type NarrowOptions } from './narrow.js';
import type { EncodedObject, ObjectEncoder } from './object-encoder.js';
import { loadPredictor, type PredictorSpec } from './predictors.js';
import { rerankBySilhouette, type Candidate, type RerankOptions } from './rerank.js';
import { domainSettings, saveDomainSettings } from './settings.js';
import { SideTables, type CategoryRow, type ObjectRow } from './side-tables.js';

export interface StageProgress {
  stage: 'localize' | 'categorize';
  done: number;
  total: number;
}

export interface LocalizeSummary {
  /** Items localised in this run. */
  localized: number;
  /** Of those, items where a distinct object was found. */
  found: number;
  /** Items already localised with the same method. */
  unchanged: number;
  failed: Array<{ path: string; reason: string }>;
  seconds: number;
}

export interface CategorizeSummary {
  categorized: number;
  fromCatalogue: number;
  unchanged: number;
  /** Items per category after this run. */
  counts: Record<string, number>;
  seconds: number;
}

export interface DomainSearchOptions {
  k?: number;
  offset?: number;
  /** SQL filter over catalogue columns, applied before ranking. */
  where?: string;
  excludeSelf?: boolean;
  /** Search the query's predicted categories first (default: when the collection is categorised). */
  narrow?: boolean | NarrowOptions;
  /** Compare object features rather than whole images (default: when the collection is localised). */
  localize?: boolean;
  /** Re-rank the head by silhouette IoU (default: when localisation is on). */
  rerank?: boolean | RerankOptions;
  maxPixels?: number;
}

export interface DomainResult extends SearchResult {
  /** Cosine similarity of the features compared (object or whole image). */
  featureScore: number;
  /** Silhouette IoU with the query, when re-ranked. */
  iou?: number;
  /** The item's stored category. */
  category?: string;
  /** Whether the item was in the categories searched first. */
  inChosenCategory: boolean;
}

export interface DomainSearchResponse {
  results: DomainResult[];
  stages: { narrow: boolean; localize: boolean; rerank: boolean };
  query: {
    id: string;
    categories?: CategoryChoice['predicted'];
    /** Categories searched first; empty when the prediction was not confident enough. */
    searchedFirst?: string[];
    object?: { found: boolean; box: { x0: number; y0: number; x1: number; y1: number }; area: number };
  };
  /** Milliseconds per step. */
  timings: Record<string, number>;
}

const COMMIT = 256;

/**
 * The optional domain stages of a collection: offline, localisation (object features and
 * silhouettes) and categorisation (a predicted category per item), kept in side tables; online,
 * a search that embeds the query once (plus its object when localising), narrows to its
 * predicted categories, ranks exactly and re-ranks the head by silhouette.
 */
export class DomainPipeline {
  private encoderP: Promise<ObjectEncoder> | null = null;
  private kernelP: Promise<ExactKernel> | null = null;
  private cached: { key: string; index: DomainIndex } | null = null;
  private predictorCache: { key: string; predictor: CategoryPredictor } | null = null;

  private constructor(
    private readonly store: VectorStore,
    private readonly side: SideTables,
    private readonly modelOptions: MobileNetOptions,
  ) {}

  static async open(store: VectorStore, modelOptions: MobileNetOptions = {}): Promise<DomainPipeline> {
    return new DomainPipeline(store, await SideTables.open(store), modelOptions);
  }

  get settings() {
    return domainSettings(this.store);
  }

  encoder(): Promise<ObjectEncoder> {
    this.encoderP ??= import('./object-encoder.js').then(({ ObjectEncoder }) => ObjectEncoder.load(this.modelOptions));
    return this.encoderP;
  }

  private kernel(): Promise<ExactKernel> {
    this.kernelP ??= import('../store/exact-kernel.js').then(({ ExactKernel }) => ExactKernel.create());
    return this.kernelP;
  }

  /** The in-memory index, rebuilt when the items or the side tables changed. */
  async index(): Promise<DomainIndex> {
    const { matrix } = await this.store.vectors();
    const v = await this.side.versions();
    const key = `${matrix.length}:${v.objects}:${v.categories}`;
    if (this.cached?.key === key && this.cached.index.wholeMatrix === matrix) return this.cached.index;
    const index = await buildDomainIndex(this.store, this.side);
    this.cached = { key, index };
    return index;
  }

  /** The collection's category predictor, as its settings name it (null when not categorised). */
  async predictor(): Promise<CategoryPredictor | null> {
    const spec = this.settings.categorize?.predictor;
    if (!spec) return null;
    const key = JSON.stringify(spec);
    if (this.predictorCache?.key !== key) this.predictorCache = { key, predictor: await loadPredictor(spec) };
    return this.predictorCache.predictor;
  }

  // ── offline ──────────────────────────────────────────────────────────────────────────

  /**
   * Localises every item not yet localised with `method`: finds the object, stores its
   * silhouette and the features of the object alone. Turns localisation on for the collection.
   */
  async localizeItems(opts: { method?: LocalizeMethod; batchSize?: number; signal?: AbortSignal; onProgress?: (p: StageProgress) => void } = {}): Promise<LocalizeSummary> {
    const started = performance.now();
    const method = opts.method ?? this.settings.localize?.method ?? DEFAULT_LOCALIZE_METHOD;
    saveDomainSettings(this.store, { localize: { method } });
    const { ids } = await this.store.vectors();
    const live = new Set(ids);
    await this.side.prune(live);
    const done = await this.side.objectMethods();
    const todo = ids.filter((id) => done.get(id) !== method);
    const summary: LocalizeSummary = { localized: 0, found: 0, unchanged: ids.length - todo.length, failed: [], seconds: 0 };
    if (todo.length === 0) return { ...summary, seconds: (performance.now() - started) / 1000 };
    const encoder = await this.encoder();
    const batchSize = Math.max(1, opts.batchSize ?? 16);
    let pending: ObjectRow[] = [];
    let processed = 0;
    opts.onProgress?.({ stage: 'localize', done: 0, total: todo.length });
    for (let start = 0; start < todo.length && !opts.signal?.aborted; start += batchSize) {
      const items = await this.store.getItems(todo.slice(start, start + batchSize));
      const read = await Promise.all(items.map(async (it) => ({ it, bytes: await readFirst(it.paths) })));
      const ok = read.filter((r): r is { it: (typeof items)[number]; bytes: Buffer } => Buffer.isBuffer(r.bytes));
      for (const r of read) if (!Buffer.isBuffer(r.bytes)) summary.failed.push({ path: r.it.path, reason: r.bytes.reason });
      let encoded: Array<EncodedObject | { error: string }>;
      try {
        encoded = await encoder.encode(ok.map((r) => r.bytes), { method });
      } catch {
        // One bad image fails a batch: encode one by one to keep the others.
        encoded = await Promise.all(
          ok.map(async (r) => (await encoder.encode([r.bytes], { method }).catch((e: unknown) => [{ error: errorMessage(e) }]))[0]!),
        );
      }
      encoded.forEach((e, i) => {
        const item = ok[i]!.it;
        if ('error' in e) return summary.failed.push({ path: item.path, reason: e.error });
        const loc = e.localization!;
        pending.push({ id: item.id, vector: e.objectVector!, found: loc.found, mask: loc.mask.bits, box: loc.mask.box, area: loc.mask.area, method });
        summary.localized++;
        if (loc.found) summary.found++;
      });
      processed += items.length;
      if (pending.length >= COMMIT) {
        await this.side.writeObjects(pending);
        pending = [];
      }
      opts.onProgress?.({ stage: 'localize', done: processed, total: todo.length });
    }
    await this.side.writeObjects(pending);
    return { ...summary, seconds: (performance.now() - started) / 1000 };
  }

  /**
   * Gives every item a category: its catalogue value in `catalogueColumn` when it has one,
   * else the predictor's most probable category. Items already categorised by the same
   * predictor are left alone. Turns narrowing on for the collection.
   */
  async categorizeItems(opts: {
    predictor: PredictorSpec;
    catalogueColumn?: string | null;
    /** Re-categorise everything, even items done by the same predictor. */
    force?: boolean;
    onProgress?: (p: StageProgress) => void;
  }): Promise<CategorizeSummary> {
    const started = performance.now();
    const predictor = await loadPredictor(opts.predictor);
    const catalogueColumn = opts.catalogueColumn ?? null;
    saveDomainSettings(this.store, { categorize: { predictor: opts.predictor, catalogueColumn } });
    this.predictorCache = { key: JSON.stringify(opts.predictor), predictor };
    const { ids } = await this.store.vectors();
    await this.side.prune(new Set(ids));
    const done = opts.force ? new Map<string, string>() : await this.side.categoryPredictors();
    const todo = ids.filter((id) => done.get(id) !== predictor.id);
    const summary: CategorizeSummary = { categorized: 0, fromCatalogue: 0, unchanged: ids.length - todo.length, counts: {}, seconds: 0 };
    const chunk = 500;
    for (let start = 0; start < todo.length; start += chunk) {
      opts.onProgress?.({ stage: 'categorize', done: start, total: todo.length });
      const items = await this.store.getItemsWithVectors(todo.slice(start, start + chunk));
      const dim = this.store.dimension;
      const classes = items[0]?.probs.length ?? 0;
      const rows = { count: items.length, features: new Float32Array(items.length * dim), probs: new Float32Array(items.length * classes) };
      items.forEach((it, i) => {
        rows.features.set(it.vector, i * dim);
        rows.probs.set(it.probs, i * classes);
      });
      const p = predictor.predict(rows);
      const k = predictor.categories.length;
      const out: CategoryRow[] = items.map((it, i) => {
        const label = catalogueColumn ? it.meta[catalogueColumn] : null;
        if (label !== null && label !== undefined && label !== '') {
          summary.fromCatalogue++;
          return { id: it.id, category: String(label), confidence: 1, source: 'catalogue', predictor: predictor.id };
        }
        let best = 0;
        for (let c = 1; c < k; c++) if (p[i * k + c]! > p[i * k + best]!) best = c;
        return { id: it.id, category: predictor.categories[best]!, confidence: p[i * k + best]!, source: 'predicted', predictor: predictor.id };
      });
      await this.side.writeCategories(out);
      summary.categorized += out.length;
    }
    opts.onProgress?.({ stage: 'categorize', done: todo.length, total: todo.length });
    for (const c of (await this.side.readCategories()).values()) summary.counts[c.category] = (summary.counts[c.category] ?? 0) + 1;
    return { ...summary, seconds: (performance.now() - started) / 1000 };
  }

  /** Runs the stages the collection has turned on for items that lack them (after indexing). */
  async refresh(onProgress?: (p: StageProgress) => void): Promise<void> {
    const s = this.settings;
    if (s.localize) await this.localizeItems({ method: s.localize.method, onProgress });
    if (s.categorize) await this.categorizeItems({ predictor: s.categorize.predictor, catalogueColumn: s.categorize.catalogueColumn, onProgress });
  }

  // ── online ───────────────────────────────────────────────────────────────────────────

  /** Searches with the stages on or off per `opts` (defaults: whatever the collection prepared). */
  async search(image: Buffer, opts: DomainSearchOptions = {}): Promise<DomainSearchResponse> {
    const t: Record<string, number> = {};
    let mark = performance.now();
    const lap = (name: string) => {
      const now = performance.now();
      t[name] = (t[name] ?? 0) + now - mark;
      mark = now;
    };
    const k = opts.k ?? 10;
    const offset = opts.offset ?? 0;
    if (!Number.isInteger(k) || k < 1) throw new VisorError('QUERY_INVALID', `k must be a positive integer, got ${k}`);
    if (!Number.isInteger(offset) || offset < 0) throw new VisorError('QUERY_INVALID', `offset must be a non-negative integer, got ${offset}`);
    const settings = this.settings;
    const useLocalize = opts.localize ?? settings.localize !== undefined;
    const useRerank = opts.rerank === undefined ? useLocalize : opts.rerank !== false;
    const useNarrow = opts.narrow === undefined ? settings.categorize !== undefined : opts.narrow !== false;
    const index = await this.index();
    if ((useLocalize || useRerank) && index.localized === 0) {
      throw new VisorError('QUERY_INVALID', "the collection is not localised: run 'visor localize' first (or search without --localize/--rerank)");
    }
    const predictor = useNarrow ? await this.predictor() : null;
    if (useNarrow && !predictor) throw new VisorError('QUERY_INVALID', "the collection has no categories: run 'visor categorize --model <file>' first (or search without --narrow)");
    lap('prepare');

    const encoder = await this.encoder();
    const method = settings.localize?.method ?? DEFAULT_LOCALIZE_METHOD;
    // A classifier trained with mirror images averages over the query and its mirror (same model run).
    const mirror = predictor?.mirror === true;
    const [q] = await encoder.encode([image], { localize: useLocalize || useRerank, method, maxPixels: opts.maxPixels, mirror });
    lap('embed');

    const n = index.ids.length;
    let bias: Float32Array = new Float32Array(n);
    if (opts.where) {
      bias.fill(-Infinity);
      for (const id of await this.store.matchingIds(opts.where)) {
        const r = index.rowOf.get(id);
        if (r !== undefined) bias[r] = 0;
      }
    }
    if (opts.excludeSelf) {
      const r = index.rowOf.get(q!.id);
      if (r !== undefined) bias[r] = -Infinity;
    }
    const response: DomainSearchResponse = { results: [], stages: { narrow: useNarrow, localize: useLocalize, rerank: useRerank }, query: { id: q!.id }, timings: t };
    let chosenRows: Set<number> = new Set();
    if (predictor) {
      const mirrored: FeatureRows | undefined = q!.mirror && { count: 1, features: q!.mirror.vector, probs: q!.mirror.probs };
      const probs = predictor.predict({ count: 1, features: q!.vector, probs: q!.probs }, mirrored);
      const choice = chooseCategories(probs, predictor.categories, typeof opts.narrow === 'object' ? opts.narrow : {});
      const names = choice.chosen.map((c) => predictor.categories[c]!);
      const chosen = names.map((name) => index.categories.indexOf(name)).filter((i) => i >= 0);
      bias = narrowingBias(index.categoryOf, chosen, bias);
      chosenRows = new Set(chosen);
      response.query.categories = choice.predicted;
      response.query.searchedFirst = names;
    }
    if (q!.localization) {
      const m = q!.localization.mask;
      response.query.object = { found: q!.localization.found, box: m.box, area: m.area };
    }
    lap('classify');

    const rerank = useRerank ? (typeof opts.rerank === 'object' ? opts.rerank : {}) : null;
    const depth = Math.max(k + offset, rerank ? (rerank.depth ?? 100) : 0);
    const matrix = useLocalize ? index.objectMatrix : index.wholeMatrix;
    const query = normalized(useLocalize ? q!.objectVector! : q!.vector);
    const top = await (await this.kernel()).topK(query, 1, matrix, n, bias, depth);
    const candidates: Candidate[] = [];
    for (let j = 0; j < top.k && top.scores[j] !== -Infinity; j++) {
      const row = top.rows[j]!;
      candidates.push({ row, score: top.scores[j]!, cosine: top.scores[j]! - bias[row]! });
    }
    lap('search');
    if (rerank && q!.localization?.found) {
      rerankBySilhouette(candidates, q!.localization.mask.bits, index.masks, index.maskBytes, index.hasMask, rerank);
    }
    lap('rerank');

    const page = candidates.slice(offset, offset + k);
    const base = await hydrate(this.store, page.map((c) => ({ id: index.ids[c.row]!, score: c.score })), 0);
    const byId = new Map(page.map((c) => [index.ids[c.row]!, c]));
    response.results = base.map((r, i) => {
      const c = byId.get(r.id)!;
      const cat = index.categoryOf[c.row]!;
      const inChosen = cat >= 0 && chosenRows.has(cat);
      return {
        ...r,
        rank: offset + i + 1,
        // The narrowing bonus orders the tiers; the score shown is the similarity alone.
        score: c.score - (inChosen ? NARROW_BONUS : 0),
        featureScore: c.cosine,
        iou: c.iou,
        category: cat >= 0 ? index.categories[cat] : undefined,
        inChosenCategory: inChosen,
      };
    });
    lap('hydrate');
    return response;
  }

  async close(): Promise<void> {
    const enc = this.encoderP;
    const kernel = this.kernelP;
    this.encoderP = null;
    this.kernelP = null;
    this.cached = null;
    if (enc) await (await enc).close();
    if (kernel) await (await kernel).close();
    this.side.close();
  }
}

function normalized(v: Float32Array): Float32Array {
  let n = 0;
  for (const x of v) n += x * x;
  const inv = n > 0 ? 1 / Math.sqrt(n) : 0;
  return v.map((x) => x * inv);
}

async function readFirst(paths: readonly string[]): Promise<Buffer | { reason: string }> {
  let reason = 'no path';
  for (const p of paths) {
    try {
      return await fs.readFile(p);
    } catch (e) {
      reason = `cannot read ${p}: ${(e as NodeJS.ErrnoException).code ?? errorMessage(e)}`;
    }
  }
  return { reason };
}
