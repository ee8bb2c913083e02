import { DEFAULT_MAX_PIXELS } from '../image/limits.js';
import type { ItemWithVectors, MetaRecord, VectorStore } from '../store/port.js';
import { mapUnordered } from './concurrent.js';
import type { CrawlProblem } from './crawl.js';
import { PathLedger, type PathRecord } from './path-ledger.js';
import type { EmbedOutcome, EmbedPool } from './embed-pool.js';
import { applyMetaChanges, detachVanished, gather, plan, settleFile, type Candidate } from './plan.js';
import { DEFAULT_MAX_FILE_BYTES, readAndHash } from './read-image.js';
import { storedRow } from './stored-row.js';

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

/** Content being embedded: paths with the same bytes found meanwhile join its records. */
interface InFlight {
  records: PathRecord[];
  meta: MetaRecord;
}

/** A run's summary before anything was done: what local and distributed runs count into. */
export function emptyIndexSummary(): IndexSummary {
  return {
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
  const summary = emptyIndexSummary();
  const skip = (problem: CrawlProblem) => {
    summary.skipped.push(problem);
    opts.onSkip?.(problem);
  };

  report({ phase: 'scanning', done: 0, total: 0 });
  const g = await gather(sources, opts);
  g.skipped.forEach(skip);
  summary.scanned = g.candidates.size;
  summary.ignored = g.ignored;
  await store.ensureMetaColumns(g.columns);

  const p = await plan(store, g);
  const { knownIds, todo } = p;
  summary.unchanged = p.unchanged;
  const ledger = new PathLedger();

  // Catalogue fields edited while the image stayed the same: rewrite the item, no embedding.
  const meta = await applyMetaChanges(store, p.metaChecks);
  summary.metadataUpdated = meta.updated;
  summary.unchanged += meta.unchanged;

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
    const rec: PathRecord = { path: c.path, size: c.size, mtimeMs: c.mtimeMs };
    const counted = settleFile(p, ledger, rec, step.kind === 'failed' ? { kind: 'failed' } : { kind: step.kind, id: step.id });
    if (step.kind === 'failed') return skip({ path: c.path, reason: step.reason });
    if (counted === 'unchanged') summary.unchanged++;
    else if (counted === 'duplicate') summary.duplicates++;
    if (step.kind !== 'embedded') return;
    const item = inFlight.get(step.id)!;
    inFlight.delete(step.id);
    const r = step.result;
    if (!r.ok) {
      // Every path that had these bytes fails the same way; they were not duplicates after all.
      for (const x of item.records) skip({ path: x.path, reason: r.reason });
      summary.duplicates -= item.records.length - 1;
      return;
    }
    stored.add(step.id);
    unwritten.push(storedRow(step.id, item.records, item.meta, r));
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
  if (!summary.interrupted) summary.removed = await detachVanished(g, p, ledger);
  const changedSomething = summary.indexed > 0 || ledger.pending > 0 || summary.metadataUpdated > 0;
  await ledger.apply(store);
  if (changedSomething && !summary.interrupted) await store.optimize();
  summary.totalItems = await store.count();
  summary.seconds = (performance.now() - started) / 1000;
  return summary;
}
