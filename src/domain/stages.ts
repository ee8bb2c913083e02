import fs from 'node:fs/promises';
import type { CategoryPredictor } from '../classify/category-classifier.js';
import { errorMessage, VisorError } from '../errors.js';
import { DEFAULT_LOCALIZE_METHOD, type LocalizeMethod } from '../localize/localizer.js';
import type { Box } from '../localize/mask.js';
import type { MobileNetOptions } from '../models/mobilenet.js';
import type { VectorStore } from '../store/port.js';
import { buildDomainIndex, type DomainIndex } from './domain-index.js';
import { objectBoxes, type ObjectDetections } from './object-boxes.js';
import type { EncodedObject, ObjectEncoder } from './object-encoder.js';
import { loadPredictor, type PredictorSpec } from './predictors.js';
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

const COMMIT = 256;

/**
 * What the optional stages of a search read, prepared offline: localisation (object features
 * and silhouettes) and categorisation (a predicted category per item), kept in side tables, and
 * their in-memory index. The stages themselves (narrow, localize, rerank) are plug-ins of the
 * query pipeline (src/search/stages/).
 */
export class DomainStages {
  private encoderP: Promise<ObjectEncoder> | null = null;
  private cached: { key: string; index: DomainIndex } | null = null;
  private predictorCache: { key: string; predictor: CategoryPredictor } | null = null;
  private detectionsP: Promise<ObjectDetections> | null = null;

  private constructor(
    private readonly store: VectorStore,
    private readonly side: SideTables,
    private readonly modelOptions: MobileNetOptions,
    private readonly openDetections?: () => Promise<ObjectDetections>,
  ) {}

  /** `detections`: where the `objects` localisation method finds objects (stored facts, the detector). */
  static async open(store: VectorStore, modelOptions: MobileNetOptions = {}, detections?: () => Promise<ObjectDetections>): Promise<DomainStages> {
    return new DomainStages(store, await SideTables.open(store), modelOptions, detections);
  }

  get settings() {
    return domainSettings(this.store);
  }

  encoder(): Promise<ObjectEncoder> {
    this.encoderP ??= import('./object-encoder.js').then(({ ObjectEncoder }) => ObjectEncoder.load(this.modelOptions));
    return this.encoderP;
  }

  /** Detections for the `objects` method, opened on first use. */
  detections(): Promise<ObjectDetections> {
    if (!this.openDetections)
      return Promise.reject(new VisorError('QUERY_INVALID', 'localising by objects needs the object detector, which this collection was opened without'));
    this.detectionsP ??= this.openDetections();
    this.detectionsP.catch(() => (this.detectionsP = null));
    return this.detectionsP;
  }

  /**
   * The boxes the `objects` method localises, for these images (undefined for other methods):
   * the item's category, when it has one, picks among the detections.
   */
  async boxesFor(method: LocalizeMethod, images: ReadonlyArray<{ id: string; bytes: Buffer }>): Promise<Array<Box | null> | undefined> {
    if (method !== 'objects') return undefined;
    const categories = await this.side.readCategories();
    return objectBoxes(
      await this.detections(),
      images.map((im) => ({ ...im, category: categories.get(im.id)?.category ?? null })),
    );
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
  async localizeItems(
    opts: { method?: LocalizeMethod; batchSize?: number; signal?: AbortSignal; onProgress?: (p: StageProgress) => void } = {},
  ): Promise<LocalizeSummary> {
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
        const boxes = await this.boxesFor(
          method,
          ok.map((r) => ({ id: r.it.id, bytes: r.bytes })),
        );
        encoded = await encoder.encode(
          ok.map((r) => r.bytes),
          { method, boxes },
        );
      } catch {
        // One bad image fails a batch: encode one by one to keep the others.
        encoded = await Promise.all(
          ok.map(
            async (r) =>
              (
                await this.boxesFor(method, [{ id: r.it.id, bytes: r.bytes }])
                  .then((boxes) => encoder.encode([r.bytes], { method, boxes }))
                  .catch((e: unknown) => [{ error: errorMessage(e) }])
              )[0]!,
          ),
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

  async close(): Promise<void> {
    const enc = this.encoderP;
    const det = this.detectionsP;
    this.encoderP = null;
    this.detectionsP = null;
    if (det) await (await det.catch(() => null))?.close();
    this.cached = null;
    if (enc) await (await enc).close();
    this.side.close();
  }
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
