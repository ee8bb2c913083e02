/**
 * Keeps the neighbour graph in step with the collection, after each index or remove run. The
 * first run builds it whole; later runs update it: new items get their neighbours, and enter
 * the lists of the items they are now nearer to than their last neighbour (reverse edges);
 * items whose lists held a removed item have theirs found again. Below the store's ANN
 * threshold every search is exact, and the updated graph is the one a rebuild would make; past
 * it, neighbours come from the ANN index and a new item enters only the lists of the items it
 * found (the usual approximation of reverse edges), so a rebuild may differ slightly.
 */
import type { VectorStore } from '../../store/port.js';
import { fillRow, offerNeighbour, GRAPH_K, type NearestRows } from './knn-graph.js';
import { GraphTable, MAX_SLOT, type GraphRowWrite } from './graph-table.js';

export type GraphFillStore = Pick<VectorStore, 'vectors' | 'searchMany' | 'scoreAll' | 'search' | 'stats' | 'sideTable' | 'hasSideTable'>;

export interface GraphFillOptions {
  /** Rebuild the whole graph rather than update it. */
  full?: boolean;
  k?: number;
  /** Searches in flight at once on the ANN path. */
  concurrency?: number;
  onProgress?: (p: { done: number; total: number }) => void;
}

export interface GraphFillSummary {
  how: 'built' | 'updated' | 'unchanged';
  search: 'exact' | 'ann';
  items: number;
  added: number;
  removed: number;
  /** Rows written (new items' and those whose neighbours changed). */
  rowsWritten: number;
  seconds: number;
}

/** Nearest rows of the snapshot, exact (one batched kernel pass) or through the ANN index. */
function nearestRows(store: GraphFillStore, ids: readonly string[], ann: boolean, concurrency: number): NearestRows {
  const rowOf = new Map(ids.map((id, i) => [id, i]));
  if (!ann) {
    return async (queries, count, k) => {
      const hits = await store.searchMany(queries, count, { k, exact: true });
      if (hits.ids === ids) return hits;
      // Another snapshot (a write in between): map its rows onto ours.
      return { k: hits.k, scores: hits.scores, rows: Int32Array.from(hits.rows, (r) => (r < 0 ? -1 : (rowOf.get(hits.ids[r]!) ?? -1))) };
    };
  }
  return async (queries, count, k) => {
    const dim = queries.length / count;
    const rows = new Int32Array(count * k).fill(-1);
    const scores = new Float32Array(count * k);
    for (let start = 0; start < count; start += concurrency) {
      const batch = Array.from({ length: Math.min(concurrency, count - start) }, (_, i) => start + i);
      const answers = await Promise.all(batch.map((q) => store.search(queries.subarray(q * dim, (q + 1) * dim), { k })));
      answers.forEach((hits, i) => {
        const q = batch[i]!;
        hits.forEach((h, j) => {
          rows[q * k + j] = rowOf.get(h.id) ?? -1;
          scores[q * k + j] = h.score;
        });
      });
    }
    return { rows, scores, k };
  };
}

/** Finds the neighbours of these rows (all of them, in blocks) into the graph arrays. */
async function findNeighbours(
  which: readonly number[],
  matrix: Float32Array,
  dim: number,
  k: number,
  nearest: NearestRows,
  rows: Int32Array,
  sims: Float32Array,
  onProgress?: GraphFillOptions['onProgress'],
): Promise<void> {
  const block = 256;
  for (let start = 0; start < which.length; start += block) {
    const part = which.slice(start, start + block);
    const queries = new Float32Array(part.length * dim);
    part.forEach((r, i) => queries.set(matrix.subarray(r * dim, (r + 1) * dim), i * dim));
    const hits = await nearest(queries, part.length, k + 1);
    part.forEach((r, q) => fillRow(r, hits, q, rows, sims, k));
    onProgress?.({ done: Math.min(start + block, which.length), total: which.length });
  }
}

/** Builds or updates the main image features' neighbour graph; see the module comment. */
export async function fillGraph(store: GraphFillStore, opts: GraphFillOptions = {}): Promise<GraphFillSummary> {
  const t0 = performance.now();
  const k = opts.k ?? GRAPH_K;
  const { ids, matrix } = await store.vectors();
  const n = ids.length;
  const dim = n ? matrix.length / n : 0;
  const ann = (await store.stats()).annIndex !== null;
  const nearest = nearestRows(store, ids, ann, opts.concurrency ?? 8);
  const table = await GraphTable.open(store, k);
  const stored = opts.full ? null : await table.read();
  const summary = (how: GraphFillSummary['how'], added: number, removed: number, rowsWritten: number): GraphFillSummary => ({
    how,
    search: ann ? 'ann' : 'exact',
    items: n,
    added,
    removed,
    rowsWritten,
    seconds: (performance.now() - t0) / 1000,
  });

  const rows = new Int32Array(n * k).fill(-1);
  const sims = new Float32Array(n * k);
  const slotOf = new Int32Array(n).fill(-1);
  const rowOf = new Map(ids.map((id, i) => [id, i]));
  const removed = stored ? stored.ids.filter((id) => !rowOf.has(id)) : [];
  let nextSlot = stored ? stored.slots.reduce((a, b) => Math.max(a, b), -1) + 1 : 0;
  const fresh: number[] = [];
  const again: number[] = [];
  if (stored && stored.k === k) {
    const rowOfSlot = new Map<number, number>();
    stored.ids.forEach((id, i) => {
      const r = rowOf.get(id);
      if (r !== undefined) rowOfSlot.set(stored.slots[i]!, r);
    });
    stored.ids.forEach((id, i) => {
      const r = rowOf.get(id);
      if (r === undefined) return;
      slotOf[r] = stored.slots[i]!;
      let lost = false;
      for (let e = 0; e < k; e++) {
        const slot = stored.neighbours[i * k + e]!;
        const nb = slot < 0 ? undefined : rowOfSlot.get(slot);
        if (slot >= 0 && nb === undefined) lost = true;
        rows[r * k + e] = nb ?? -1;
        sims[r * k + e] = nb === undefined ? 0 : stored.sims[i * k + e]!;
      }
      if (lost) again.push(r);
    });
  }
  for (let r = 0; r < n; r++) if (slotOf[r]! < 0) fresh.push(r);
  const rebuild = !stored || stored.k !== k || nextSlot + fresh.length >= MAX_SLOT;
  if (rebuild) nextSlot = 0;
  if (!rebuild && fresh.length === 0 && again.length === 0 && removed.length === 0) return summary('unchanged', 0, 0, 0);

  const recompute = rebuild ? Array.from({ length: n }, (_, r) => r) : [...fresh, ...again];
  if (rebuild) slotOf.fill(-1);
  for (const r of rebuild ? recompute : fresh) slotOf[r] = nextSlot++;
  const dirty = new Set<number>(recompute);
  await findNeighbours(recompute, matrix, dim, k, nearest, rows, sims, opts.onProgress);

  if (!rebuild && fresh.length) {
    if (!ann) {
      // Exact: every item's cosine to each new one decides whether the new one enters its list.
      const block = 64;
      for (let start = 0; start < fresh.length; start += block) {
        const part = fresh.slice(start, start + block);
        const queries = new Float32Array(part.length * dim);
        part.forEach((r, i) => queries.set(matrix.subarray(r * dim, (r + 1) * dim), i * dim));
        const scored = await store.scoreAll('vector', queries, part.length);
        const m = scored.ids.length;
        const same = scored.ids === ids;
        part.forEach((x, q) => {
          for (let c = 0; c < m; c++) {
            const y = same ? c : rowOf.get(scored.ids[c]!);
            if (y === undefined || y === x) continue;
            if (offerNeighbour(rows, sims, k, y, x, scored.scores[q * m + c]!)) dirty.add(y);
          }
        });
      }
    } else {
      for (const x of fresh) {
        for (let e = 0; e < k; e++) {
          const y = rows[x * k + e]!;
          if (y >= 0 && offerNeighbour(rows, sims, k, y, x, sims[x * k + e]!)) dirty.add(y);
        }
      }
    }
  }

  const writes: GraphRowWrite[] = [...dirty].map((r) => ({
    id: ids[r]!,
    slot: slotOf[r]!,
    neighbours: Int32Array.from(rows.subarray(r * k, (r + 1) * k), (nb) => (nb < 0 ? -1 : slotOf[nb]!)),
    sims: sims.slice(r * k, (r + 1) * k),
  }));
  const stale = rebuild && stored ? stored.ids : removed;
  await table.write(writes, stale);
  return summary(rebuild ? 'built' : 'updated', rebuild ? n : fresh.length, removed.length, writes.length);
}
