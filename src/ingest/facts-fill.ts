import { FACT_STAGES, type FactStage, type ImageFacts } from '../core/facts.js';
import { stagesToCompute, type FactsOutcome } from '../facts/compute.js';
import { FactsTable, type FactsRow } from '../facts/facts-table.js';
import type { VectorStore } from '../store/port.js';
import { mapUnordered } from './concurrent.js';
import type { CrawlProblem } from './crawl.js';
import type { FactsRunner } from './facts-pool.js';
import { DEFAULT_MAX_FILE_BYTES, readAndHash } from './read-image.js';

export interface FactsFillOptions {
  /** Files read ahead of the workers (default 16: decoded images are larger than embeddings). */
  readAhead?: number;
  /** Items per commit to the facts table (default 128): what an interrupted run may lose at most. */
  commitSize?: number;
  maxFileBytes?: number;
  signal?: AbortSignal;
  onProgress?: (p: { stage: string; done: number; total: number }) => void;
  /** The facts table to write (a caller's own, so its reads see the writes at once); opened and closed here otherwise. */
  table?: FactsTable;
  /**
   * Called with each batch of rows before they are written: a stage whose results live in a
   * table of their own (the faces) takes them out of the rows here.
   */
  beforeCommit?: (rows: FactsRow[]) => Promise<void>;
}

export interface FactsFillSummary {
  /** The stages switched on. */
  stages: FactStage[];
  /** Items whose facts this run computed (some or all of their stages). */
  computed: number;
  /** Per stage, how many items it ran on. */
  perStage: Partial<Record<FactStage, number>>;
  /** Items that already had every stage switched on. */
  already: number;
  /** Items whose facts could not be computed (file gone or changed, a reader failed): tried again next run. */
  skipped: CrawlProblem[];
  /** Rows of items no longer in the index, deleted. */
  pruned: number;
  interrupted: boolean;
  /** Time the pass took, workers' start included. */
  seconds: number;
}

type FactsStore = Pick<VectorStore, 'fileStates' | 'sideTable' | 'hasSideTable' | 'version' | 'vectors'>;

/**
 * Computes the facts of every stored item that lacks a stage switched on (incremental: a
 * second run computes nothing; a stage switched on later runs on the existing items only, and
 * without re-embedding anything). The readers (`startRunner`) start only when there is work,
 * with only the stages some item needs. Results are committed in batches, so an interrupted
 * run keeps what it committed; each row is written whole.
 */
export async function fillFacts(
  store: FactsStore,
  enabled: readonly FactStage[],
  startRunner: (stages: FactStage[]) => Promise<FactsRunner>,
  opts: FactsFillOptions = {},
): Promise<FactsFillSummary> {
  const aborted = () => opts.signal?.aborted === true;
  const stages = FACT_STAGES.filter((s) => enabled.includes(s));
  const t0 = performance.now();
  const summary: FactsFillSummary = { stages, computed: 0, perStage: {}, already: 0, skipped: [], pruned: 0, interrupted: false, seconds: 0 };
  const table = opts.table ?? (await FactsTable.open(store));
  try {
    // Every path of every stored item: a file that moved or went may have a duplicate elsewhere.
    const files = new Map<string, Array<{ path: string; size: number }>>();
    for (const s of await store.fileStates()) {
      const list = files.get(s.id);
      if (list) list.push({ path: s.path, size: s.size });
      else files.set(s.id, [{ path: s.path, size: s.size }]);
    }
    summary.pruned = await table.prune(new Set(files.keys()));
    if (stages.length === 0) return summary;
    const stored = await table.stored();
    const todo: Array<{ id: string; paths: Array<{ path: string; size: number }>; stages: FactStage[]; existing?: ImageFacts }> = [];
    const needed = new Set<FactStage>();
    for (const [id, paths] of files) {
      const existing = stored.get(id);
      const missing = stagesToCompute(existing, stages);
      if (missing.length === 0) {
        summary.already++;
        continue;
      }
      missing.forEach((s) => needed.add(s));
      todo.push({ id, paths, stages: missing, ...(existing ? { existing } : {}) });
    }
    if (todo.length === 0 || aborted()) {
      summary.interrupted = aborted() && todo.length > 0;
      return summary;
    }
    const runner = await startRunner(FACT_STAGES.filter((s) => needed.has(s)));
    try {
      let rows: FactsRow[] = [];
      const commit = async () => {
        if (rows.length === 0) return;
        await opts.beforeCommit?.(rows);
        await table.put(rows);
        summary.computed += rows.length;
        rows = [];
      };
      const computeOne = async (job: (typeof todo)[number]): Promise<{ job: typeof job; path: string; outcome: FactsOutcome }> => {
        let why = 'no readable file';
        for (const p of job.paths) {
          const r = await readAndHash(p.path, p.size, opts.maxFileBytes ?? DEFAULT_MAX_FILE_BYTES);
          if (r.kind === 'failed') why = r.reason;
          // The file changed since it was indexed: the next index run stores its new content.
          else if (r.id !== job.id) why = 'file changed since it was indexed';
          else return { job, path: p.path, outcome: await runner.compute({ id: job.id, bytes: r.bytes, stages: job.stages, existing: job.existing }) };
        }
        return { job, path: job.paths[0]!.path, outcome: { ok: false, reason: why } };
      };
      let done = 0;
      const commitSize = Math.max(1, opts.commitSize ?? 128);
      opts.onProgress?.({ stage: 'facts', done, total: todo.length });
      for await (const r of mapUnordered(todo, Math.max(1, opts.readAhead ?? 16), computeOne, aborted)) {
        done++;
        if (r.outcome.ok) {
          rows.push({ id: r.job.id, facts: r.outcome.facts });
          for (const s of r.job.stages) summary.perStage[s] = (summary.perStage[s] ?? 0) + 1;
          if (rows.length >= commitSize) await commit();
        } else summary.skipped.push({ path: r.path, reason: `facts: ${r.outcome.reason}` });
        opts.onProgress?.({ stage: 'facts', done, total: todo.length });
      }
      await commit();
      summary.interrupted = aborted() && done < todo.length;
    } finally {
      await runner.close();
    }
    return summary;
  } finally {
    summary.seconds = (performance.now() - t0) / 1000;
    if (!opts.table) table.close();
  }
}
