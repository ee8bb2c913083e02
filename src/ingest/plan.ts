import fs from 'node:fs/promises';
import path from 'node:path';
import type { FileState, MetaColumnType, MetaRecord, VectorStore } from '../store/port.js';
import { isCatalogueFile, readCatalogue } from './catalogue.js';
import { mapUnordered } from './concurrent.js';
import { crawl, type CrawlProblem } from './crawl.js';
import { describeReadFailure } from './read-image.js';
import type { PathLedger, PathRecord } from './path-ledger.js';

/** A file to index: where it is, its size and time, and its catalogue fields when a catalogue listed it. */
export interface Candidate extends PathRecord {
  meta?: MetaRecord;
}

/** What the sources hold now: the candidate files and what bounds the removal of the others. */
export interface Gathered {
  candidates: Map<string, Candidate>;
  skipped: CrawlProblem[];
  columns: Record<string, MetaColumnType>;
  /** Folders listed in full: an indexed path under one that was not found is gone. */
  folderScopes: string[];
  /** Folders of catalogues: an indexed path there that no longer exists is gone. */
  catalogueScopes: string[];
  /** Folders and entries that could not be read: what is indexed under them stays. */
  unreadable: string[];
  ignored: number;
}

export interface GatherOptions {
  hidden?: boolean;
  allFiles?: boolean;
  signal?: AbortSignal;
}

function inside(p: string, dir: string): boolean {
  return p === dir || p.startsWith(dir.endsWith(path.sep) ? dir : dir + path.sep);
}

/** Lists the files of folders, single images and catalogues (with their fields). */
export async function gather(sources: readonly string[], opts: GatherOptions): Promise<Gathered> {
  const g: Gathered = { candidates: new Map(), skipped: [], columns: {}, folderScopes: [], catalogueScopes: [], unreadable: [], ignored: 0 };
  for (const source of sources) {
    const abs = path.resolve(source);
    const st = await fs.stat(abs).catch(() => null);
    if (st?.isFile() && isCatalogueFile(abs)) {
      const cat = await readCatalogue(abs);
      g.skipped.push(...cat.problems);
      Object.assign(g.columns, cat.columns);
      g.catalogueScopes.push(path.dirname(abs));
      const stats = mapUnordered(cat.entries, 32, async (e) => ({ e, st: await fs.stat(e.path).catch((err: unknown) => err) }));
      for await (const { e, st: est } of stats) {
        if (est instanceof Error) {
          const missing = (est as NodeJS.ErrnoException).code === 'ENOENT';
          g.skipped.push({ path: e.path, reason: `listed in the catalogue but ${missing ? 'no such file' : describeReadFailure(est)}` });
        } else if (!(est as import('node:fs').Stats).isFile()) g.skipped.push({ path: e.path, reason: 'not a regular file' });
        else {
          const s = est as import('node:fs').Stats;
          g.candidates.set(e.path, { path: e.path, size: s.size, mtimeMs: s.mtimeMs, meta: e.meta });
        }
      }
      continue;
    }
    const r = await crawl([abs], { hidden: opts.hidden, allFiles: opts.allFiles, signal: opts.signal });
    if (st?.isDirectory()) g.folderScopes.push(abs);
    g.skipped.push(...r.problems);
    g.unreadable.push(...r.unreadable);
    g.ignored += r.ignored;
    for (const f of r.files) if (!g.candidates.has(f.path)) g.candidates.set(f.path, f);
  }
  return g;
}

/** The gathered files set against what the index holds. */
export interface Plan {
  /** What the index holds now, by path (a path under two ids: a run died between storing new content and detaching the old). */
  byPath: Map<string, FileState[]>;
  knownIds: Set<string>;
  /** Files to read (new, or changed since they were indexed). */
  todo: Candidate[];
  /** Files unchanged on disk whose catalogue fields may have changed. */
  metaChecks: Array<{ c: Candidate; id: string }>;
  unchanged: number;
}

/** Compares the gathered files with the index's file states: what needs reading, what is unchanged. */
export async function plan(store: Pick<VectorStore, 'fileStates'>, g: Gathered): Promise<Plan> {
  const byPath = new Map<string, FileState[]>();
  for (const s of await store.fileStates()) {
    const list = byPath.get(s.path);
    if (list) list.push(s);
    else byPath.set(s.path, [s]);
  }
  const p: Plan = { byPath, knownIds: new Set([...byPath.values()].flat().map((s) => s.id)), todo: [], metaChecks: [], unchanged: 0 };
  for (const c of g.candidates.values()) {
    const prev = byPath.get(c.path);
    // Same size and time under one id: unchanged (a path under two ids is processed again).
    if (prev?.length === 1 && prev[0]!.size === c.size && prev[0]!.mtimeMs === c.mtimeMs) {
      if (c.meta) p.metaChecks.push({ c, id: prev[0]!.id });
      else p.unchanged++;
    } else {
      p.todo.push(c);
    }
  }
  return p;
}

function sameMeta(a: MetaRecord, b: MetaRecord): boolean {
  return Object.keys(a).every((k) => (a[k] ?? null) === (b[k] ?? null));
}

/** Catalogue fields edited while the image stayed the same: rewrites those items, no embedding. */
export async function applyMetaChanges(
  store: Pick<VectorStore, 'getItems' | 'getItemsWithVectors' | 'upsert'>,
  checks: Plan['metaChecks'],
): Promise<{ updated: number; unchanged: number }> {
  if (checks.length === 0) return { updated: 0, unchanged: 0 };
  const stored = new Map((await store.getItems([...new Set(checks.map((m) => m.id))])).map((i) => [i.id, i]));
  const changed: string[] = [];
  const newMeta = new Map<string, MetaRecord>();
  let unchanged = 0;
  for (const { c, id } of checks) {
    const item = stored.get(id);
    if (item && item.path === c.path && !sameMeta(c.meta!, item.meta)) {
      changed.push(id);
      newMeta.set(id, { ...item.meta, ...c.meta });
    } else unchanged++;
  }
  const rewritten = (await store.getItemsWithVectors(changed)).map((it) => ({ ...it, meta: newMeta.get(it.id)! }));
  await store.upsert(rewritten);
  return { updated: rewritten.length, unchanged };
}

/**
 * What became of one file read this run, as the path ledger needs it: `known` content already
 * stored (this path is attached to it), `joined` content stored with another path read this run,
 * `embedded` content stored for this path, `failed` nothing stored.
 */
export type FileOutcome = { kind: 'failed' } | { kind: 'known' | 'joined' | 'embedded'; id: string };

/**
 * Records one file's outcome in the ledger (its old content detached, known content attached)
 * and says how the summary counts it.
 */
export function settleFile(p: Plan, ledger: PathLedger, rec: PathRecord, o: FileOutcome): 'skipped' | 'unchanged' | 'duplicate' | 'embedded' {
  const newId = o.kind === 'failed' ? null : o.id;
  for (const s of p.byPath.get(rec.path) ?? []) if (s.id !== newId) ledger.detach(s.id, rec.path);
  if (o.kind === 'failed') return 'skipped';
  if (o.kind === 'joined') return 'duplicate';
  if (o.kind === 'embedded') return 'embedded';
  ledger.attach(o.id, rec);
  // Same path, same bytes (only the time changed): unchanged; otherwise a duplicate.
  return p.byPath.get(rec.path)?.some((s) => s.id === o.id) ? 'unchanged' : 'duplicate';
}

/**
 * Detaches the indexed paths under a scanned folder (or beside a catalogue) that are gone;
 * returns how many. Only after a complete run: a partial file list proves nothing missing.
 */
export async function detachVanished(g: Gathered, p: Plan, ledger: PathLedger): Promise<number> {
  let removed = 0;
  for (const [file, states] of p.byPath) {
    if (g.candidates.has(file)) continue;
    // A folder that could not be listed this time (permissions, a disk error) still holds its
    // files as far as we know: they stay indexed until a run can see they are gone.
    if (g.unreadable.some((d) => inside(file, d))) continue;
    const underFolder = g.folderScopes.some((d) => inside(file, d));
    const underCatalogue = !underFolder && g.catalogueScopes.some((d) => inside(file, d)) && !(await fs.stat(file).catch(() => null));
    if (underFolder || underCatalogue) {
      for (const s of states) ledger.detach(s.id, file);
      removed++;
    }
  }
  return removed;
}
