/**
 * npm run bench:domain — query latency with every domain stage on (localisation, category
 * narrowing, silhouette re-ranking) at 10,000 images, against the same queries with none.
 *
 * Data: 200 real images from the generated object benchmark (8 packaging shapes pasted onto
 * Flickr8k test photographs) are indexed, localised and categorised for real: a classifier is
 * trained on their `object` column and their mirror images (`trainCategoryClassifier`, as
 * `visor-lab train classify --mirror` does, so queries embed their mirror too)
 * and `categorizeItems` runs. The collection is then padded to 10,000 items with copies of
 * those items whose features (whole and object) carry seeded Gaussian noise, keeping their
 * silhouettes and categories: what a query costs depends on the number of rows, not on whose
 * pixels they came from, and localising 10,000 images would take this 2-core machine ~15 min.
 * Queries are 100 further generated images (another seed, not in the collection), each run
 * end to end through DomainStages.search: decode, image model with activation maps,
 * localisation, object crop and second model run, classifier, exact search with the
 * narrowing bias, re-rank of the top 100 by silhouette IoU, hydration of 10 results.
 *
 * Usage: npm run bench:domain [-- <items>]   (default 10000)
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { trainCategoryClassifier } from '../train/classify/train-classifier.js';
import { loadLabelledRows } from '../train/classify/training-data.js';
import { Collection } from '../../src/collection.js';
import { mirroredRows } from '../../src/domain/mirror.js';
import { loadFlickr8k } from '../eval/datasets.js';
import { generateObjectScenes, OBJECTS } from '../eval/synthetic-objects.js';
import { Rng } from '../random.js';
import type { ItemWithVectors } from '../../src/store/types.js';

process.env.LANCEDB_LOG ??= 'error';

const { SideTables } = await import('../../src/domain/side-tables.js');

const ITEMS = Number(process.argv[2] ?? 10_000);
const REAL_PER_OBJECT = 25;
const QUERIES = 100;
const WARMUP = 10;
const TARGET_P50_MS = 200;
const ALL = { narrow: true, localize: true, rerank: true };
const NOISE = 0.02; // per-component σ × √dim: copies stay near, not on, their source

const started = performance.now();
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'visor-bench-domain-'));
const log = (s: string) => console.log(s);
const seconds = (t0: number) => ((performance.now() - t0) / 1000).toFixed(1);

function percentile(values: number[], p: number): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(p * s.length))]!;
}

function noisy(v: Float32Array, rng: Rng): Float32Array {
  const sigma = NOISE / Math.sqrt(v.length);
  const out = new Float32Array(v.length);
  let norm = 0;
  for (let j = 0; j < v.length; j++) {
    out[j] = v[j]! + sigma * rng.gauss();
    norm += out[j]! * out[j]!;
  }
  const inv = 1 / Math.sqrt(norm);
  for (let j = 0; j < v.length; j++) out[j]! *= inv;
  return out;
}

const backgrounds = loadFlickr8k('test').images.map((im) => im.path);
let t0 = performance.now();
const scenes = await generateObjectScenes(path.join(tmp, 'images'), backgrounds, { perObject: REAL_PER_OBJECT, seed: 11 });
const queryScenes = await generateObjectScenes(path.join(tmp, 'queries'), backgrounds, { perObject: Math.ceil((QUERIES + WARMUP) / OBJECTS.length), seed: 12 });
const catalogue = path.join(tmp, 'scenes.csv');
fs.writeFileSync(catalogue, ['path,object', ...scenes.map((s) => `${s.file},${OBJECTS[s.object]!.name}`)].join('\n'));
log(`generated ${scenes.length} collection images and ${queryScenes.length} query images in ${seconds(t0)} s`);

const collection = await Collection.open({ db: path.join(tmp, 'index'), create: true });
const pipeline = await collection.stagesData();
try {
  t0 = performance.now();
  await collection.index([catalogue]);
  log(`indexed ${scenes.length} images in ${seconds(t0)} s`);
  t0 = performance.now();
  const loc = await pipeline.localizeItems();
  log(`localised ${loc.localized} (object found in ${loc.found}) in ${loc.seconds.toFixed(1)} s`);
  t0 = performance.now();
  const labelled = await loadLabelledRows(collection.store, 'object');
  // With mirror images (train classify --mirror), the costlier option: the query's mirror is embedded too.
  const mirrored = await mirroredRows(collection.store, await pipeline.encoder(), labelled.ids);
  const { classifier, crossValidation } = trainCategoryClassifier(labelled.rows, labelled.labels, { column: 'object', folds: 3, epochs: 20, mirrored });
  const clfFile = path.join(tmp, 'classifier.json');
  classifier.save(clfFile);
  const cat = await pipeline.categorizeItems({ predictor: { kind: 'trained', file: clfFile } });
  log(`classifier trained (3-fold CV accuracy ${crossValidation.accuracy.toFixed(3)}) and ${cat.categorized} images categorised in ${seconds(t0)} s`);

  // Pad to ITEMS rows with noisy copies of the real ones.
  t0 = performance.now();
  const store = collection.store;
  const side = await SideTables.open(store);
  const { ids: realIds } = await store.vectors();
  const real = await store.getItemsWithVectors(realIds);
  const objects = await side.readObjects();
  const objectRow = new Map(objects.ids.map((id, i) => [id, i]));
  const cats = await side.readCategories();
  const rng = new Rng(20261123);
  const dim = store.dimension;
  const CHUNK = 2000;
  for (let start = real.length; start < ITEMS; start += CHUNK) {
    const items: ItemWithVectors[] = [];
    const objs: Parameters<typeof side.writeObjects>[0][number][] = [];
    const catRows: Parameters<typeof side.writeCategories>[0][number][] = [];
    for (let r = start; r < Math.min(ITEMS, start + CHUNK); r++) {
      const src = real[r % real.length]!;
      const id = `fade${r.toString(16).padStart(28, '0')}`; // 32 hex digits, like content ids
      const p = `/synthetic/${r}.jpg`;
      items.push({ ...src, id, path: p, paths: [p], fileSizes: [0], fileMtimes: [0], vector: noisy(src.vector, rng) });
      const o = objectRow.get(src.id)!;
      objs.push({
        id,
        vector: noisy(objects.vectors.subarray(o * dim, (o + 1) * dim), rng),
        found: objects.found[o] === 1,
        mask: objects.masks.slice(o * objects.maskBytes, (o + 1) * objects.maskBytes),
        box: { x0: objects.boxes[o * 4]!, y0: objects.boxes[o * 4 + 1]!, x1: objects.boxes[o * 4 + 2]!, y1: objects.boxes[o * 4 + 3]! },
        area: 0,
        method: objects.methods[o]!,
      });
      const c = cats.get(src.id)!;
      catRows.push({ id, ...c });
    }
    await store.upsert(items);
    await side.writeObjects(objs);
    await side.writeCategories(catRows);
  }
  side.close();
  const total = (await store.vectors()).ids.length;
  log(`padded to ${total} items in ${seconds(t0)} s`);

  const queries = queryScenes.slice(0, QUERIES + WARMUP).map((s) => fs.readFileSync(s.file));
  for (const q of queries.slice(QUERIES)) {
    await collection.search({ images: [q], k: 10, stages: ALL });
    await collection.search({ images: [q], k: 10 });
  }
  const all: number[] = [];
  const none: number[] = [];
  let narrowed = 0;
  let found = 0;
  for (const q of queries.slice(0, QUERIES)) {
    let t = performance.now();
    const r = await collection.search({ images: [q], k: 10, stages: ALL });
    all.push(performance.now() - t);
    const report = r.stages as { searchedFirst?: string[]; object?: { found: boolean } };
    if ((report.searchedFirst?.length ?? 0) > 0) narrowed++;
    if (report.object?.found) found++;
    t = performance.now();
    await collection.search({ images: [q], k: 10 });
    none.push(performance.now() - t);
  }
  const p50 = percentile(all, 0.5);
  log('');
  log(`${total} items, ${QUERIES} queries (after ${WARMUP} warm-up), ${os.availableParallelism()} cores, ${os.cpus()[0]?.model ?? ''}`);
  log(`all stages on (localize + narrow + rerank): p50 ${p50.toFixed(1)} ms, p90 ${percentile(all, 0.9).toFixed(1)} ms, max ${Math.max(...all).toFixed(1)} ms`);
  log(`  queries with an object found ${found}/${QUERIES}, narrowed ${narrowed}/${QUERIES}`);
  log(`no stages (whole-image search): p50 ${percentile(none, 0.5).toFixed(1)} ms, p90 ${percentile(none, 0.9).toFixed(1)} ms`);
  log(`target: p50 ≤ ${TARGET_P50_MS} ms with all stages at 10,000 images → ${total >= 10_000 && p50 <= TARGET_P50_MS ? 'MET' : 'NOT MET'}`);
  log(`total ${seconds(started)} s`);
} finally {
  await collection.close();
  fs.rmSync(tmp, { recursive: true, force: true });
}
