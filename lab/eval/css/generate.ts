import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { mapUnordered } from '../../../src/ingest/concurrent.js';
import { rng } from '../../random.js';
import { renderScenePng } from './render.js';
import { MAX_OBJECTS, modify, objectCount, pick, randomScene, sceneKey, type ModificationKind, type Scene } from './scene.js';

export interface CssGenerateOptions {
  /** Everything derives from this seed (default 5). */
  seed?: number;
  /** Queries (reference, text, target) in the training split (default 16,000, as CSS). */
  trainQueries?: number;
  /** Queries in the test split (default 16,000, as CSS). */
  testQueries?: number;
  /**
   * Modifications applied in a row from one starting scene; each step is a query and each
   * target the next reference, so a split holds about (1 + 1/chain) images per query
   * (CSS: 16K queries over about 19K images per split). Default 5.
   */
  chainLength?: number;
  /** Side of the rendered PNGs in pixels (default 64). */
  imageSize?: number;
  onProgress?: (done: number, total: number) => void;
}

export interface CssQuery {
  /** Image paths relative to the images folder. */
  reference: string;
  text: string;
  target: string;
  kind: ModificationKind;
}

export interface CssSplit {
  /** The triplets file: reference,text,target,kind with paths relative to `imagesDir`. */
  triplets: string;
  queries: CssQuery[];
  /** Every image of the split (relative paths): the retrieval gallery for the test split. */
  images: string[];
  /** Scene key of each image, for inspection and checks. */
  sceneOf: Map<string, string>;
}

export interface CssDataset {
  dir: string;
  imagesDir: string;
  imageSize: number;
  seed: number;
  train: CssSplit;
  test: CssSplit;
}

/** How often each kind is drawn: add, remove and change one third each (change split three ways). */
const KINDS: ReadonlyArray<ModificationKind> = ['add', 'add', 'add', 'remove', 'remove', 'remove', 'colour', 'size', 'shape'];

interface SplitPlan {
  queries: Array<{ reference: Scene; text: string; target: Scene; kind: ModificationKind }>;
}

/**
 * Chains of modifications from random starting scenes (2 to 4 objects). Scenes in `forbidden`
 * (the other split's) are never used, so train and test share no scene.
 */
function planSplit(random: () => number, queries: number, chain: number, forbidden: ReadonlySet<string>): SplitPlan {
  const out: SplitPlan['queries'] = [];
  while (out.length < queries) {
    let scene = randomScene(random, 2 + Math.floor(random() * 3));
    if (forbidden.has(sceneKey(scene))) continue;
    for (let step = 0; step < chain && out.length < queries; step++) {
      let next: ReturnType<typeof modify> = null;
      for (let attempt = 0; attempt < 20 && !next; attempt++) {
        const m = modify(scene, pick(random, KINDS), random);
        if (m && !forbidden.has(sceneKey(m.target)) && objectCount(m.target) <= MAX_OBJECTS) next = m;
      }
      if (!next) break;
      out.push({ reference: scene, text: next.text, target: next.target, kind: next.kind });
      scene = next.target;
    }
  }
  return { queries: out };
}

function csvField(s: string): string {
  return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/**
 * Generates a CSS-style composed-retrieval benchmark into `dir`: `images/train/*.png`,
 * `images/test/*.png` (one image per distinct scene) and `train.csv` / `test.csv` triplets
 * (reference,text,target,kind). Deterministic for a given seed and options.
 */
export async function generateCss(dir: string, opts: CssGenerateOptions = {}): Promise<CssDataset> {
  const seed = opts.seed ?? 5;
  const chain = opts.chainLength ?? 5;
  const imageSize = opts.imageSize ?? 64;
  const random = rng(seed);
  const train = planSplit(random, opts.trainQueries ?? 16_000, chain, new Set());
  const trainKeys = new Set(train.queries.flatMap((q) => [sceneKey(q.reference), sceneKey(q.target)]));
  const test = planSplit(random, opts.testQueries ?? 16_000, chain, trainKeys);

  const imagesDir = path.join(dir, 'images');
  const toRender: Array<{ file: string; scene: Scene }> = [];
  const splits = {} as Record<'train' | 'test', CssSplit>;
  for (const [name, plan] of [
    ['train', train],
    ['test', test],
  ] as const) {
    fs.mkdirSync(path.join(imagesDir, name), { recursive: true });
    const fileOf = new Map<string, string>();
    const sceneOf = new Map<string, string>();
    const fileFor = (scene: Scene): string => {
      const key = sceneKey(scene);
      let file = fileOf.get(key);
      if (!file) {
        file = `${name}/${String(fileOf.size).padStart(6, '0')}.png`;
        fileOf.set(key, file);
        sceneOf.set(file, key);
        toRender.push({ file, scene });
      }
      return file;
    };
    const queries = plan.queries.map((q) => ({ reference: fileFor(q.reference), text: q.text, target: fileFor(q.target), kind: q.kind }));
    const triplets = path.join(dir, `${name}.csv`);
    fs.writeFileSync(
      triplets,
      ['reference,text,target,kind', ...queries.map((q) => [q.reference, q.text, q.target, q.kind].map(csvField).join(','))].join('\n') + '\n',
    );
    splits[name] = { triplets, queries, images: [...fileOf.values()], sceneOf };
  }

  let done = 0;
  const render = async ({ file, scene }: { file: string; scene: Scene }) => {
    await fs.promises.writeFile(path.join(imagesDir, file), await renderScenePng(scene, imageSize));
  };
  for await (const _ of mapUnordered(toRender, Math.max(2, os.availableParallelism() * 2), render)) {
    if (++done % 500 === 0 || done === toRender.length) opts.onProgress?.(done, toRender.length);
  }
  return { dir, imagesDir, imageSize, seed, train: splits.train, test: splits.test };
}
