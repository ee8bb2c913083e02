/**
 * Does a collection sharded in object storage rank like one local index of the same images?
 * Indexes an image folder (and/or a catalogue) into a sharded collection (`s3://bucket/prefix`, 4 shards unless
 * --shards) and a local index (or uses both as they are with --existing), then runs N image
 * queries (images of the folder, spread evenly) and N text queries, each without and with a
 * filter, and prints how many top-10s are identical, and the median query time of each.
 *
 * The object store and queue come from the usual settings (AWS_* variables or visor.config.json's
 * "s3"; VISOR_QUEUE for the leases that optimizing needs). For a filter, index a catalogue
 * with the images and name one of its columns in --where.
 *
 * Usage:
 *   npx tsx lab/scripts/fanout-vs-local.ts --images <dir> --s3 s3://bucket/prefix --local <dir>
 *       [--catalogue file.csv] [--shards 4] [--queries 200] [--where "category = 'x'"] [--existing]
 */
import { parseArgs } from 'node:util';
import { Collection } from '../../src/collection.js';
import type { Query } from '../../src/search/query.js';

const WORDS = [
  'dog',
  'child',
  'beach',
  'water',
  'grass',
  'street',
  'red shirt',
  'ball',
  'snow',
  'bike',
  'two people',
  'a man riding',
  'girl in pink',
  'black dog running',
  'mountain',
  'crowd',
  'car',
  'boat',
  'playing in the park',
  'jumping',
];

const { values: o } = parseArgs({
  options: {
    images: { type: 'string' },
    s3: { type: 'string' },
    local: { type: 'string' },
    catalogue: { type: 'string' },
    shards: { type: 'string', default: '4' },
    queries: { type: 'string', default: '200' },
    where: { type: 'string', default: 'img_width >= 400' },
    existing: { type: 'boolean', default: false },
  },
});
if (!o.s3 || !o.local || (!o.existing && !o.images && !o.catalogue)) {
  process.stderr.write(
    'usage: fanout-vs-local.ts --images <dir> --s3 s3://bucket/prefix --local <dir> [--catalogue f] [--shards 4] [--queries 200] [--where sql] [--existing]\n',
  );
  process.exit(2);
}
const n = Number(o.queries);

const local = await Collection.open({ db: o.local, create: !o.existing });
const remote = await Collection.open({ db: o.s3, create: !o.existing, shards: o.existing ? undefined : Number(o.shards) });
try {
  if (!o.existing) {
    for (const [name, c] of [
      ['local', local],
      ['s3', remote],
    ] as const) {
      const t = performance.now();
      const s = await c.index([...(o.images ? [o.images] : []), ...(o.catalogue ? [o.catalogue] : [])]);
      process.stdout.write(`indexed ${s.indexed} images into ${name} in ${((performance.now() - t) / 1000).toFixed(1)} s\n`);
    }
  }
  const items = (await local.store.fileStates()).map((f) => f.path).sort();
  const images = Array.from({ length: Math.min(n, items.length) }, (_, i) => items[Math.floor((i * items.length) / Math.min(n, items.length))]!);
  const texts = Array.from({ length: n }, (_, i) => `${WORDS[i % WORDS.length]!}${i >= WORDS.length ? ` ${WORDS[(i * 7 + 3) % WORDS.length]!}` : ''}`);
  const groups: Array<[string, Query[]]> = [
    ['image', images.map((f) => ({ images: [f] }))],
    [`image --where`, images.map((f) => ({ images: [f], where: o.where }))],
    ['text', texts.map((text) => ({ text }))],
    [`text --where`, texts.map((text) => ({ text, where: o.where }))],
  ];
  const time = { local: [] as number[], s3: [] as number[] };
  const top10 = async (c: Collection, q: Query, t: number[]) => {
    const start = performance.now();
    const r = (await c.search({ ...q, k: 10 })).results.map((x) => x.id);
    t.push(performance.now() - start);
    return r;
  };
  for (const [name, qs] of groups) {
    let same = 0;
    const differ: string[] = [];
    for (const q of qs) {
      const [a, b] = [await top10(local, q, time.local), await top10(remote, q, time.s3)];
      if (a.join() === b.join()) same++;
      else if (differ.length < 3) differ.push(JSON.stringify(q));
    }
    process.stdout.write(`${name}: ${same}/${qs.length} top-10s identical${differ.length ? ` (differ: ${differ.join('; ')})` : ''}\n`);
  }
  const med = (x: number[]) => [...x].sort((p, q) => p - q)[Math.floor(x.length / 2)]!.toFixed(1);
  process.stdout.write(`median query time: local ${med(time.local)} ms, s3 (${(await remote.stats()).shards} shards) ${med(time.s3)} ms\n`);
} finally {
  await local.close();
  await remote.close();
}
