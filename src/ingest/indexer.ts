import fs from 'node:fs/promises';
import path from 'node:path';
import { DEFAULT_MAX_PIXELS } from '../image/limits.js';
import type { ImageEncoder } from '../models/types.js';
import type { FileState, ItemWithVectors, MetaColumnType, MetaRecord, VectorStore } from '../store/types.js';
import { isCatalogueFile, readCatalogue } from './catalogue.js';
import { mapUnordered } from './concurrent.js';
import { crawl, type CrawlProblem } from './crawl.js';
import { PathLedger, type PathRecord } from './path-ledger.js';
import { DEFAULT_MAX_FILE_BYTES, describeReadFailure, readImageFile, type ReadOutcome } from './read-image.js';

export interface IndexOptions {
  /** Include hidden files and folders (default false). */
  hidden?: boolean;
  /** Try every file, not only image extensions (default false). */
  allFiles?: boolean;
  /** Images per model run (default 16). */
  batchSize?: number;
  /** Files read and decoded ahead of the model (default 4 × batchSize). */
  readAhead?: number;
  maxPixels?: number;
  maxFileBytes?: number;
  /** Stop cleanly: the current batch is committed, the rest is left for the next run. */
  signal?: AbortSignal;
  onProgress?: (p: IndexProgress) => void;
  onSkip?: (p: CrawlProblem) => void;
}

export interface IndexProgress {
  phase: 'scanning' | 'embedding' | 'finishing';
  /** Files handled so far out of `total` that needed reading. */
  done: number;
  total: number;
  embedded: number;
  duplicates: number;
  skipped: number;
}

export interface IndexSummary {
  /** Candidate image files found. */
  scanned: number;
  /** New images embedded and stored. */
  indexed: number;
  /** Files already indexed and not modified. */
  unchanged: number;
  /** Files whose catalogue fields changed (no re-embedding needed). */
  metadataUpdated: number;
  /** Paths whose content was already stored under another path. */
  duplicates: number;
  /** Paths no longer present, removed from the index. */
  removed: number;
  skipped: CrawlProblem[];
  /** Other files (not image extensions) passed over. */
  ignored: number;
  interrupted: boolean;
  /** Items in the index afterwards. */
  totalItems: number;
  seconds: number;
}

interface Candidate extends PathRecord {
  meta?: MetaRecord;
}

interface PendingItem {
  id: string;
  records: PathRecord[];
  meta: MetaRecord;
  width: number;
  height: number;
  format: string;
}

function sameMeta(a: MetaRecord, b: MetaRecord): boolean {
  return Object.keys(a).every((k) => (a[k] ?? null) === (b[k] ?? null));
}

function inside(p: string, dir: string): boolean {
  return p === dir || p.startsWith(dir.endsWith(path.sep) ? dir : dir + path.sep);
}

async function gather(sources: readonly string[], opts: IndexOptions) {
  const candidates = new Map<string, Candidate>();
  const skipped: CrawlProblem[] = [];
  const columns: Record<string, MetaColumnType> = {};
  const folderScopes: string[] = [];
  const catalogueScopes: string[] = [];
  let ignored = 0;
  for (const source of sources) {
    const abs = path.resolve(source);
    const st = await fs.stat(abs).catch(() => null);
    if (st?.isFile() && isCatalogueFile(abs)) {
      const cat = await readCatalogue(abs);
      skipped.push(...cat.problems);
      Object.assign(columns, cat.columns);
      catalogueScopes.push(path.dirname(abs));
      const stats = mapUnordered(cat.entries, 32, async (e) => ({ e, st: await fs.stat(e.path).catch((err: unknown) => err) }));
      for await (const { e, st: est } of stats) {
        if (est instanceof Error) skipped.push({ path: e.path, reason: `listed in the catalogue but ${describeReadFailure(est)}` });
        else if (!(est as import('node:fs').Stats).isFile()) skipped.push({ path: e.path, reason: 'not a regular file' });
        else {
          const s = est as import('node:fs').Stats;
          candidates.set(e.path, { path: e.path, size: s.size, mtimeMs: s.mtimeMs, meta: e.meta });
        }
      }
      continue;
    }
    const r = await crawl([abs], { hidden: opts.hidden, allFiles: opts.allFiles, signal: opts.signal });
    if (st?.isDirectory()) folderScopes.push(abs);
    skipped.push(...r.problems);
    ignored += r.ignored;
    for (const f of r.files) if (!candidates.has(f.path)) candidates.set(f.path, f);
  }
  return { candidates, skipped, columns, folderScopes, catalogueScopes, ignored };
}

/**
 * Brings the index up to date with folders, files and catalogues: embeds new or changed
 * images, records duplicates, drops what disappeared. Each batch is committed atomically, so
 * an interrupted run loses at most the batch in flight and the next run resumes from there.
 * The encoder is only loaded when something needs embedding.
 */
export async function indexSources(
  store: VectorStore,
  loadEncoder: () => Promise<ImageEncoder>,
  sources: readonly string[],
  opts: IndexOptions = {},
): Promise<IndexSummary> {
  const started = performance.now();
  const aborted = () => opts.signal?.aborted === true;
  const batchSize = Math.max(1, opts.batchSize ?? 16);
  const readAhead = Math.max(batchSize, opts.readAhead ?? batchSize * 4);
  const limits = { maxPixels: opts.maxPixels ?? DEFAULT_MAX_PIXELS, maxFileBytes: opts.maxFileBytes ?? DEFAULT_MAX_FILE_BYTES };

  const report = (p: Omit<IndexProgress, 'embedded' | 'duplicates' | 'skipped'>) =>
    opts.onProgress?.({ ...p, embedded: summary.indexed, duplicates: summary.duplicates, skipped: summary.skipped.length });
  const summary: IndexSummary = {
    scanned: 0, indexed: 0, unchanged: 0, metadataUpdated: 0, duplicates: 0, removed: 0,
    skipped: [], ignored: 0, interrupted: false, totalItems: 0, seconds: 0,
  };
  const skip = (p: CrawlProblem) => {
    summary.skipped.push(p);
    opts.onSkip?.(p);
  };

  report({ phase: 'scanning', done: 0, total: 0 });
  const g = await gather(sources, opts);
  g.skipped.forEach(skip);
  summary.scanned = g.candidates.size;
  summary.ignored = g.ignored;
  await store.ensureMetaColumns(g.columns);

  // What the index holds now, by path. A path under two ids means a run died between
  // storing new content and detaching the old: such paths are simply processed again.
  const byPath = new Map<string, FileState[]>();
  for (const s of await store.fileStates()) {
    const list = byPath.get(s.path);
    if (list) list.push(s);
    else byPath.set(s.path, [s]);
  }
  const knownIds = new Set([...byPath.values()].flat().map((s) => s.id));

  const ledger = new PathLedger();
  const todo: Candidate[] = [];
  const metaChecks: Array<{ c: Candidate; id: string }> = [];
  for (const c of g.candidates.values()) {
    const prev = byPath.get(c.path);
    if (prev?.length === 1 && prev[0]!.size === c.size && prev[0]!.mtimeMs === c.mtimeMs) {
      if (c.meta) metaChecks.push({ c, id: prev[0]!.id });
      else summary.unchanged++;
    } else {
      todo.push(c);
    }
  }

  // Catalogue fields edited while the image stayed the same: rewrite the item, no embedding.
  if (metaChecks.length > 0) {
    const stored = new Map((await store.getItems([...new Set(metaChecks.map((m) => m.id))])).map((i) => [i.id, i]));
    const changed: string[] = [];
    const newMeta = new Map<string, MetaRecord>();
    for (const { c, id } of metaChecks) {
      const item = stored.get(id);
      if (item && item.path === c.path && !sameMeta(c.meta!, item.meta)) {
        changed.push(id);
        newMeta.set(id, { ...item.meta, ...c.meta });
      } else summary.unchanged++;
    }
    const rewritten = (await store.getItemsWithVectors(changed)).map((it) => ({ ...it, meta: newMeta.get(it.id)! }));
    await store.upsert(rewritten);
    summary.metadataUpdated = rewritten.length;
  }

  // Embedding: files are read and decoded ahead (libuv threads) while the model runs.
  let encoder: ImageEncoder | null = null;
  let buffer: Uint8Array | null = null;
  let batch: PendingItem[] = [];
  const pending = new Map<string, PendingItem>();
  const committed = new Set<string>();
  let writing: Promise<void> = Promise.resolve();
  let done = 0;

  const flush = async (): Promise<void> => {
    if (batch.length === 0 || !encoder || !buffer) return;
    const items = batch;
    batch = [];
    const emb = await encoder.run(buffer, items.length);
    const now = Date.now();
    const rows: ItemWithVectors[] = items.map((it, i) => ({
      id: it.id,
      path: it.records[0]!.path,
      paths: it.records.map((r) => r.path),
      fileSizes: it.records.map((r) => r.size),
      fileMtimes: it.records.map((r) => r.mtimeMs),
      width: it.width,
      height: it.height,
      format: it.format,
      indexedAt: now,
      meta: it.meta,
      vector: emb.features.slice(i * encoder!.featureDim, (i + 1) * encoder!.featureDim),
      probs: emb.probs.slice(i * encoder!.numClasses, (i + 1) * encoder!.numClasses),
    }));
    for (const it of items) {
      pending.delete(it.id);
      committed.add(it.id);
    }
    // One write in flight: it overlaps the next batch's decoding and inference.
    await writing;
    writing = store.upsert(rows).then(() => {
      summary.indexed += rows.length;
      report({ phase: 'embedding', done, total: todo.length });
    });
  };

  const isKnown = (id: string) => knownIds.has(id) || pending.has(id) || committed.has(id);
  const handle = async (c: Candidate, out: ReadOutcome): Promise<void> => {
    done++;
    for (const s of byPath.get(c.path) ?? []) {
      if (out.kind === 'failed' || s.id !== out.id) ledger.detach(s.id, c.path);
    }
    if (out.kind === 'failed') {
      skip({ path: c.path, reason: out.reason });
      return;
    }
    const rec: PathRecord = { path: c.path, size: c.size, mtimeMs: c.mtimeMs };
    const inBatch = pending.get(out.id);
    if (inBatch) {
      inBatch.records.push(rec);
      summary.duplicates++;
      return;
    }
    if (out.kind === 'known' || isKnown(out.id)) {
      if (!byPath.get(c.path)?.some((s) => s.id === out.id)) summary.duplicates++;
      ledger.attach(out.id, rec);
      return;
    }
    encoder ??= await loadEncoder();
    buffer ??= encoder.newBatch(batchSize);
    const item: PendingItem = {
      id: out.id,
      records: [rec],
      meta: c.meta ?? {},
      width: out.input.width,
      height: out.input.height,
      format: out.input.format,
    };
    encoder.pack(buffer, batch.length, out.input.pixels);
    batch.push(item);
    pending.set(item.id, item);
    if (batch.length === batchSize) await flush();
  };

  if (todo.length > 0) {
    report({ phase: 'embedding', done: 0, total: todo.length });
    // The encoder's input size is needed to decode; load it before the first read.
    encoder = await loadEncoder();
    const size = encoder.inputSize;
    const results = mapUnordered(
      todo,
      readAhead,
      async (c) => ({ c, out: await readImageFile(c.path, c.size, size, limits, isKnown) }),
      aborted,
    );
    for await (const { c, out } of results) await handle(c, out);
    await flush();
    await writing;
  }
  summary.interrupted = aborted() && done < todo.length;

  report({ phase: 'finishing', done, total: todo.length });
  if (!summary.interrupted) {
    // Paths that were indexed under a scanned folder (or beside a catalogue) and are gone.
    const seen = g.candidates;
    for (const [p, states] of byPath) {
      if (seen.has(p)) continue;
      const underFolder = g.folderScopes.some((d) => inside(p, d));
      const underCatalogue = !underFolder && g.catalogueScopes.some((d) => inside(p, d)) && !(await fs.stat(p).catch(() => null));
      if (underFolder || underCatalogue) {
        for (const s of states) ledger.detach(s.id, p);
        summary.removed++;
      }
    }
  }
  const changedSomething = summary.indexed > 0 || ledger.pending > 0 || summary.metadataUpdated > 0;
  await ledger.apply(store);
  if (changedSomething && !summary.interrupted) await store.optimize();
  summary.totalItems = await store.count();
  summary.seconds = (performance.now() - started) / 1000;
  return summary;
}
