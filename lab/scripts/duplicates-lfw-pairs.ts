/**
 * Which LFW candidate pairs the duplicates check passes, at the 2× size of `eval duplicates
 * --scale` (the benchmark collection + the first 9,000 LFW photos): every LFW–LFW candidate
 * pair of one person is checked, and a seeded sample of those of two people. Reads the index
 * the --scale run keeps. Prints the counts and the passing pairs' paths (JSON lines on stderr).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Collection } from '../../src/collection.js';
import { FeatureCache, comparePair } from '../../src/duplicates/find-duplicates.js';
import { Rng } from '../random.js';
import { loadLfw } from '../eval/lfw.js';

const db = process.argv[2] ?? path.join(os.tmpdir(), 'visor-eval-duplicates-s1-scale-db');
const sample = Number(process.argv[3] ?? 1000);
const lfw = loadLfw();
const lfwPaths = lfw.images.slice(0, 9000).map((p) => path.resolve(lfw.dir, p));
const personOf = new Map(lfwPaths.map((p, i) => [p, lfw.person[i]!]));
const c = await Collection.open({ db });
const states = await c.store.fileStates();
const pathOf = new Map(states.map((s) => [s.id, s.path]));
const ids = states.filter((s) => personOf.has(s.path)).map((s) => s.id);
const idSet = new Set(ids);
const all = await c.store.vectors();
const dim = all.matrix.length / all.ids.length;
const rowOf = new Map(all.ids.map((id, i) => [id, i]));
const q = new Float32Array(ids.length * dim);
ids.forEach((id, i) => q.set(all.matrix.subarray(rowOf.get(id)! * dim, (rowOf.get(id)! + 1) * dim), i * dim));
const outside = new Set(all.ids.filter((id) => !idSet.has(id)));
const hits = await c.store.searchMany(q, ids.length, { k: 6, exact: true, exclude: outside });
const pairs = new Map<string, { a: string; b: string; s: number }>();
for (let i = 0; i < ids.length; i++)
  for (let r = 0; r < hits.k; r++) {
    const s = hits.scores[i * hits.k + r]!;
    const b = hits.ids[hits.rows[i * hits.k + r]!]!;
    if (!(s >= 0.75) || b === ids[i]) continue;
    const [x, y] = [ids[i]!, b].sort();
    pairs.set(`${x}:${y}`, { a: x!, b: y!, s });
  }
const same = [...pairs.values()].filter((p) => personOf.get(pathOf.get(p.a)!) === personOf.get(pathOf.get(p.b)!));
const diff = [...pairs.values()].filter((p) => personOf.get(pathOf.get(p.a)!) !== personOf.get(pathOf.get(p.b)!));
const rng = new Rng(1);
for (let i = diff.length - 1; i > 0; i--) {
  const j = rng.int(i + 1);
  [diff[i], diff[j]] = [diff[j]!, diff[i]!];
}
const cache = new FeatureCache(async (id) => fs.promises.readFile(pathOf.get(id)!));
const run = async (name: string, list: typeof same) => {
  let passed = 0;
  for (const p of list) {
    const score = await comparePair(cache, p.a, p.b, p.s);
    if (score && score.confidence >= 0.5) {
      passed++;
      process.stderr.write(`${JSON.stringify({ kind: name, a: pathOf.get(p.a), b: pathOf.get(p.b), cosine: p.s, ...score })}\n`);
    }
  }
  process.stdout.write(`${name}: ${passed} of ${list.length} candidate pairs pass\n`);
};
process.stdout.write(`LFW (first 9,000) candidate pairs among themselves: ${pairs.size} (${same.length} of one person, ${diff.length} of two)\n`);
await run('one person', same);
await run(`two people (seeded sample)`, diff.slice(0, sample));
await c.close();
