import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Collection } from '../../src/collection.js';
import type { DomainStages } from '../../src/domain/stages.js';
import type { RerankOptions } from '../../src/domain/rerank.js';
import { DEFAULT_LOCALIZE_METHOD, WORK_SIDE, type LocalizeMethod } from '../../src/localize/localizer.js';
import { bitmapIoU, type Bitmap } from '../../src/localize/mask.js';
import { loadFlickr8k } from './datasets.js';
import { mean, precisionRecallCurve, summarize, type RankedQuery } from './metrics.js';
import { precisionRecallSvg } from './svg.js';
import { generateObjectScenes, OBJECTS } from './synthetic-objects.js';

export interface ObjectsEvalOptions {
  /** Images per object (default 30: 240 images). */
  perObject?: number;
  method?: LocalizeMethod;
  /** Re-ranking settings for the re-ranked configurations. */
  rerank?: RerankOptions;
  seed?: number;
  /** Keep the generated images and index here (default: a temporary folder). */
  dir?: string;
  /** JSON report path; SVG plots are written beside it. */
  out?: string;
  onProgress?: (stage: string, done: number, total: number) => void;
}

interface ConfigFigures {
  map: number;
  precisionAt5: number;
  recallAt1: number;
  p50Ms: number;
  precisionRecall: { recall: number[]; precision: number[] };
}

export interface ObjectsEvalReport {
  protocol: string;
  images: number;
  objects: string[];
  method: LocalizeMethod;
  localization: {
    /** Mean IoU of the found silhouette with the pasted object's true one. */
    meanIoU: number;
    /** Share of images where an object was found at all. */
    foundShare: number;
  };
  retrieval: Record<'plain' | 'localize' | 'rerank' | 'localizeRerank', ConfigFigures>;
  /** mAP with localisation and re-ranking over mAP without either. */
  gain: number;
  files: string[];
  seconds: { generate: number; index: number; localize: number; queries: number; total: number };
}

/** Nearest-neighbour downsampling of a ground-truth mask to the working resolution. */
function downsample(m: Bitmap, side: number): Bitmap {
  const data = new Uint8Array(side * side);
  for (let y = 0; y < side; y++) {
    const sy = Math.floor(((y + 0.5) * m.height) / side);
    for (let x = 0; x < side; x++) data[y * side + x] = m.data[sy * m.width + Math.floor(((x + 0.5) * m.width) / side)]!;
  }
  return { width: side, height: side, data };
}

const CONFIGS = {
  plain: { localize: false, rerank: false },
  localize: { localize: true, rerank: false },
  rerank: { localize: false, rerank: true },
  localizeRerank: { localize: true, rerank: true },
} as const;

/**
 * The localisation benchmark: packaging shapes pasted at random positions and scales onto
 * Flickr8k test photographs (generated, seeded), every image querying all the others,
 * relevant = the same object. Scored with each combination of the two stages.
 */
export async function evalObjects(opts: ObjectsEvalOptions = {}): Promise<ObjectsEvalReport> {
  const started = performance.now();
  const method = opts.method ?? DEFAULT_LOCALIZE_METHOD;
  const tmp = opts.dir ? null : fs.mkdtempSync(path.join(os.tmpdir(), 'visor-eval-objects-'));
  const dir = opts.dir ?? tmp!;
  const backgrounds = loadFlickr8k('test').images.map((im) => im.path);
  const scenes = await generateObjectScenes(path.join(dir, 'images'), backgrounds, { perObject: opts.perObject ?? 30, seed: opts.seed });
  const generateSeconds = (performance.now() - started) / 1000;
  const catalogue = path.join(dir, 'scenes.csv');
  fs.writeFileSync(catalogue, ['path,object', ...scenes.map((s) => `${s.file},${OBJECTS[s.object]!.name}`)].join('\n'));
  const collection = await Collection.open({ db: path.join(dir, 'index'), create: true });
  let pipeline: DomainStages | null = null;
  try {
    const t0 = performance.now();
    await collection.index([catalogue]);
    const indexSeconds = (performance.now() - t0) / 1000;
    pipeline = await collection.stagesData();
    const t1 = performance.now();
    await pipeline.localizeItems({ method, onProgress: (p) => opts.onProgress?.('localize', p.done, p.total) });
    const localizeSeconds = (performance.now() - t1) / 1000;

    const t2 = performance.now();
    const objectOfId = new Map<string, number>();
    const sceneOfPath = new Map(scenes.map((s) => [path.resolve(s.file), s]));
    for (const st of await collection.store.fileStates()) {
      const s = sceneOfPath.get(st.path);
      if (s) objectOfId.set(st.id, s.object);
    }
    const perObject = new Map<number, number>();
    for (const o of objectOfId.values()) perObject.set(o, (perObject.get(o) ?? 0) + 1);
    const encoder = await pipeline.encoder();
    const ious: number[] = [];
    let found = 0;
    const ranked: Record<keyof typeof CONFIGS, RankedQuery[]> = { plain: [], localize: [], rerank: [], localizeRerank: [] };
    const times: Record<keyof typeof CONFIGS, number[]> = { plain: [], localize: [], rerank: [], localizeRerank: [] };
    const n = objectOfId.size;
    for (let i = 0; i < scenes.length; i++) {
      const s = scenes[i]!;
      const bytes = fs.readFileSync(s.file);
      const [enc] = await encoder.encode([bytes], { method });
      if (!objectOfId.has(enc!.id)) continue; // a duplicate image (not expected)
      const loc = enc!.localization!;
      if (loc.found) found++;
      ious.push(bitmapIoU(loc.bitmap, downsample(s.mask, WORK_SIDE)));
      for (const [name, cfg] of Object.entries(CONFIGS) as Array<[keyof typeof CONFIGS, (typeof CONFIGS)[keyof typeof CONFIGS]]>) {
        const t = performance.now();
        const res = await collection.search({
          images: [bytes],
          k: n - 1,
          excludeSelf: true,
          lean: true,
          stages: { localize: cfg.localize, rerank: cfg.rerank ? (opts.rerank ?? true) : false },
        });
        times[name].push(performance.now() - t);
        ranked[name].push({
          relevant: Uint8Array.from(res.results, (r) => (objectOfId.get(r.id) === s.object ? 1 : 0)),
          totalRelevant: perObject.get(s.object)! - 1,
        });
      }
      opts.onProgress?.('queries', i + 1, scenes.length);
    }
    const querySeconds = (performance.now() - t2) / 1000;
    const fig = (name: keyof typeof CONFIGS): ConfigFigures => {
      const s = summarize(ranked[name], { ks: [1, 5] });
      const sorted = [...times[name]].sort((a, b) => a - b);
      return {
        map: s.mapAll,
        precisionAt5: s.precisionAtK[5]!,
        recallAt1: s.recallAtK[1]!,
        p50Ms: sorted[Math.floor(sorted.length / 2)]!,
        precisionRecall: precisionRecallCurve(ranked[name]),
      };
    };
    const retrieval = { plain: fig('plain'), localize: fig('localize'), rerank: fig('rerank'), localizeRerank: fig('localizeRerank') };
    const report: ObjectsEvalReport = {
      protocol:
        `${OBJECTS.length} packaging shapes pasted at random positions and scales onto Flickr8k test photographs; ` +
        'each image queries all the others (exact search), relevant = same object; mAP over the full ranking',
      images: ranked.plain.length,
      objects: OBJECTS.map((o) => o.name),
      method,
      localization: { meanIoU: mean(ious), foundShare: found / Math.max(1, ranked.plain.length) },
      retrieval,
      gain: retrieval.localizeRerank.map / retrieval.plain.map,
      files: [],
      seconds: { generate: generateSeconds, index: indexSeconds, localize: localizeSeconds, queries: querySeconds, total: (performance.now() - started) / 1000 },
    };
    if (opts.out) {
      const out = path.resolve(opts.out);
      const pr = out.replace(/\.json$/, '') + '.pr.svg';
      fs.mkdirSync(path.dirname(out), { recursive: true });
      fs.writeFileSync(
        pr,
        precisionRecallSvg(
          (Object.keys(CONFIGS) as Array<keyof typeof CONFIGS>).map((k) => ({
            label: `${k} (mAP ${retrieval[k].map.toFixed(3)})`,
            ...retrieval[k].precisionRecall,
          })),
          'Pasted objects on clutter: precision–recall',
        ),
      );
      report.files = [out, pr];
      fs.writeFileSync(out, `${JSON.stringify(report, null, 2)}\n`);
    }
    return report;
  } finally {
    await collection.close();
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  }
}
