import type { BatchHits, VectorHit } from '../types.js';

/**
 * Each shard's best-first hits merged into the k best overall, by score; ties keep shard order
 * and each shard's own order (so the merge of exact answers is the exact answer).
 */
export function mergeHits(lists: ReadonlyArray<readonly VectorHit[]>, k: number): VectorHit[] {
  const all: Array<VectorHit & { s: number; i: number }> = [];
  lists.forEach((hits, s) => hits.forEach((h, i) => all.push({ ...h, s, i })));
  all.sort((a, b) => b.score - a.score || a.s - b.s || a.i - b.i);
  return all.slice(0, k).map(({ id, score }) => ({ id, score }));
}

/**
 * Many queries' answers from each shard merged per query into one BatchHits whose rows index
 * `ids`, the shards' id lists concatenated (shard s's rows start at offsets[s]).
 */
export function mergeBatches(parts: readonly BatchHits[], offsets: readonly number[], ids: readonly string[], count: number, k: number): BatchHits {
  const kOut = Math.min(
    k,
    parts.reduce((n, p) => n + p.k, 0),
  );
  const rows = new Int32Array(count * kOut);
  const scores = new Float32Array(count * kOut).fill(-Infinity);
  const cand: Array<{ row: number; score: number; s: number; j: number }> = [];
  for (let q = 0; q < count; q++) {
    cand.length = 0;
    parts.forEach((p, s) => {
      for (let j = 0; j < p.k; j++) {
        const score = p.scores[q * p.k + j]!;
        if (score !== -Infinity) cand.push({ row: offsets[s]! + p.rows[q * p.k + j]!, score, s, j });
      }
    });
    cand.sort((a, b) => b.score - a.score || a.s - b.s || a.j - b.j);
    for (let j = 0; j < kOut; j++) {
      const c = cand[j];
      rows[q * kOut + j] = c ? c.row : 0;
      if (c) scores[q * kOut + j] = c.score;
    }
  }
  return { count, k: kOut, rows, scores, ids };
}
