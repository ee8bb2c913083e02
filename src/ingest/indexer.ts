import fs from 'node:fs/promises';
import path from 'node:path';
import { DEFAULT_MAX_PIXELS } from '../image/limits.js';
import type { FileState, ItemWithVectors, MetaColumnType, MetaRecord, VectorStore } from '../store/port.js';
import { isCatalogueFile, readCatalogue } from './catalogue.js';
import { mapUnordered } from './concurrent.js';
import { crawl, type CrawlProblem } from './crawl.js';
import { PathLedger, type PathRecord } from './path-ledger.js';
import type { EmbedOutcome, EmbedPool } from './embed-pool.js';
import { DEFAULT_MAX_FILE_BYTES, describeReadFailure, readAndHash } from './read-image.js';

export interface IndexOptions {
  /** Include hidden files and folders (default false). */
  hidden?: boolean;
  /** Try every file, not only image extensions (default false). */
  allFiles?: boolean;
  /** Files read ahead of the embedding workers (default 64). */
  readAhead?: number;
  /** Embedded images per commit to the store (default 256): fewer, larger commits are cheaper. */
  commitSize?: number;
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

/** Content being embedded: paths with the same bytes found meanwhile join its records. */
interface InFlight {
  records: PathRecord[];
  meta: MetaRecord;
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
  const unreadable: string[] = [];
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
        if (est instanceof Error) {
          const missing = (est as NodeJS.ErrnoException).code === 'ENOENT';
          skipped.push({ path: e.path, reason: `listed in the catalogue but ${missing ? 'no such file' : describeReadFailure(est)}` });
        } else if (!(est as import('node:fs').Stats).isFile()) skipped.push({ path: e.path, reason: 'not a regular file' });
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
    unreadable.push(...r.unreadable);
    ignored += r.ignored;
    for (const f of r.files) if (!candidates.has(f.path)) candidates.set(f.path, f);
  }
  return { candidates, skipped, columns, folderScopes, catalogueScopes, unreadable, ignored };
}

/** Gives the embedding workers, started on first need; the caller owns (and closes) them. */
export type StartEmbedding = (opts: { maxPixels: number }) => Promise<EmbedPool>;

/**
 * Brings the index up to date with folders, files and catalogues: embeds new or changed
 * images, records duplicates, drops what disappeared. Embedded rows are committed in
 * batches, each atomically, so an interrupted run loses at most what was not yet committed
 * and the next run resumes from there. The model is only loaded when something needs embedding.
 */
export async function indexSources(
  store: VectorStore,
  startEmbedding: StartEmbedding,
  sources: readonly string[],
  opts: IndexOptions = {},
): Promise<IndexSummary> {
  const started = performance.now();
  const aborted = () => opts.signal?.aborted === true;
  const readAhead = Math.max(1, opts.readAhead ?? 64);
  const commitSize = Math.max(1, opts.commitSize ?? 256);
  const maxPixels = opts.maxPixels ?? DEFAULT_MAX_PIXELS;
  const maxFileBytes = opts.maxFileBytes ?? DEFAULT_MAX_FILE_BYTES;

  const report = (p: Omit<IndexProgress, 'embedded' | 'duplicates' | 'skipped'>) =>
    opts.onProgress?.({ ...p, embedded: summary.indexed, duplicates: summary.duplicates, skipped: summary.skipped.length });
  const summary: IndexSummary = {
    scanned: 0,
    indexed: 0,
    unchanged: 0,
    metadataUpdated: 0,
    duplicates: 0,
    removed: 0,
    skipped: [],
    ignored: 0,
    interrupted: false,
    totalItems: 0,
    seconds: 0,
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

  // Embedding: the main thread reads and hashes; workers decode and run the model.
  let pool: Promise<EmbedPool> | null = null;
  const inFlight = new Map<string, InFlight>();
  const stored = new Set<string>(); // embedded this run (committed or about to be)
  let unwritten: ItemWithVectors[] = [];
  let writing: Promise<void> = Promise.resolve();
  let done = 0;

  // One write in flight: it overlaps further reading and embedding.
  const commit = async (): Promise<void> => {
    await writing;
    const rows = unwritten;
    unwritten = [];
    if (rows.length === 0) return;
    writing = store.insert(rows).then(() => {
      summary.indexed += rows.length;
      report({ phase: 'embedding', done, total: todo.length });
    });
  };

  type Step =
    | { c: Candidate; kind: 'failed'; reason: string }
    | { c: Candidate; kind: 'known'; id: string }
    | { c: Candidate; kind: 'joined'; id: string }
    | { c: Candidate; kind: 'embedded'; id: string; result: EmbedOutcome };

  const readOne = async (c: Candidate): Promise<Step> => {
    const r = await readAndHash(c.path, c.size, maxFileBytes);
    if (r.kind === 'failed') return { c, kind: 'failed', reason: r.reason };
    const rec: PathRecord = { path: c.path, size: c.size, mtimeMs: c.mtimeMs };
    if (knownIds.has(r.id) || stored.has(r.id)) return { c, kind: 'known', id: r.id };
    const same = inFlight.get(r.id);
    if (same) {
      same.records.push(rec);
      return { c, kind: 'joined', id: r.id };
    }
    inFlight.set(r.id, { records: [rec], meta: c.meta ?? {} });
    pool ??= startEmbedding({ maxPixels });
    const result = await (await pool).embed(r.id, r.bytes);
    return { c, kind: 'embedded', id: r.id, result };
  };

  const handle = async (step: Step): Promise<void> => {
    done++;
    const { c } = step;
    const newId = step.kind === 'failed' ? null : step.id;
    for (const s of byPath.get(c.path) ?? []) if (s.id !== newId) ledger.detach(s.id, c.path);
    if (step.kind === 'failed') return skip({ path: c.path, reason: step.reason });
    if (step.kind === 'joined') {
      summary.duplicates++;
      return;
    }
    if (step.kind === 'known') {
      // Same path, same bytes (only the time changed): unchanged; otherwise a duplicate.
      if (byPath.get(c.path)?.some((s) => s.id === step.id)) summary.unchanged++;
      else summary.duplicates++;
      ledger.attach(step.id, { path: c.path, size: c.size, mtimeMs: c.mtimeMs });
      return;
    }
    const item = inFlight.get(step.id)!;
    inFlight.delete(step.id);
    const r = step.result;
    if (!r.ok) {
      // Every path that had these bytes fails the same way; they were not duplicates after all.
      for (const rec of item.records) skip({ path: rec.path, reason: r.reason });
      summary.duplicates -= item.records.length - 1;
      return;
    }
    stored.add(step.id);
    unwritten.push({
      id: step.id,
      path: item.records[0]!.path,
      paths: item.records.map((x) => x.path),
      fileSizes: item.records.map((x) => x.size),
      fileMtimes: item.records.map((x) => x.mtimeMs),
      width: r.width,
      height: r.height,
      format: r.format,
      indexedAt: Date.now(),
      meta: item.meta,
      vector: r.vector,
      probs: r.probs,
    });
    if (unwritten.length >= commitSize) await commit();
  };

  if (todo.length > 0 && !aborted()) {
    report({ phase: 'embedding', done: 0, total: todo.length });
    // The pool belongs to the caller, who may keep it for the next run.
    for await (const step of mapUnordered(todo, readAhead, readOne, aborted)) await handle(step);
    await commit();
    await writing;
  }
  // Stopped at any point — even while scanning, when the file list is partial — means nothing
  // unseen may be taken for deleted: removals wait for a complete run.
  summary.interrupted = aborted();

  report({ phase: 'finishing', done, total: todo.length });
  if (!summary.interrupted) {
    // Paths that were indexed under a scanned folder (or beside a catalogue) and are gone.
    const seen = g.candidates;
    for (const [p, states] of byPath) {
      if (seen.has(p)) continue;
      // A folder that could not be listed this time (permissions, a disk error) still holds its
      // files as far as we know: they stay indexed until a run can see they are gone.
      if (g.unreadable.some((d) => inside(p, d))) continue;
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
