/**
 * Text search with no training, measured through the normal index → search path: CIFAR-10 class
 * names as queries, Flickr8k captions as queries, and image → tags against Flickr8k captions.
 * Images are indexed without their labels or captions, so keyword search cannot see the answers.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Collection } from '../../src/collection.js';
import type { IndexProgress } from '../../src/ingest/indexer.js';
import { ConceptSignal, type Calibration, type ConceptSignalOptions } from '../../src/search/signals/concepts.js';
import type { SignalWeights } from '../../src/search/query.js';
import { BUILT_READERS } from '../../src/facts/readers.js';
import { readsGraph } from '../../src/search/neighbours/rerankers.js';
import { loadCifar10, loadFlickr8k } from './datasets.js';
import { summarizeRanks, type CrossModalMetrics } from './cross-modal.js';
import { summarize, type RankedQuery } from './metrics.js';
import { classifyByScores, labelScores } from '../../src/classify/label-scores.js';

export interface ZeroShotOptions {
  /** Keep the index here (re-runs then skip embedding); default: a temporary folder. */
  db?: string;
  /** Use a class-balanced (CIFAR) or leading (Flickr8k) subset of this many images. */
  limit?: number;
  onIndexProgress?: (p: IndexProgress) => void;
  onSearchProgress?: (done: number, total: number) => void;
  /** A joint text–image model (.joint) fused with the concepts, as `visor search --text-model` does. */
  textModel?: string;
  /**
   * The fact stages computed while indexing (objects, colours, text), which the objects and
   * printed-text signals read; [] indexes without them. Default: every stage this build reads.
   */
  facts?: readonly string[];
  /** Signal weights for every query (e.g. { objects: 0.5 }), as `visor search --weights`. */
  weights?: Partial<SignalWeights>;
  fusion?: 'rrf' | 'score';
  /** Re-rank the fused head with the neighbour graph (pseudo-relevance feedback; docs/reranking.md) instead of the collection's default. */
  rerank?: 'none' | 'qe' | 'dba' | 'diffusion';
  /** How the concept signal reads words (word vectors on or off, their settings). */
  concepts?: ConceptSignalOptions;
  /** cifar10-zeroshot: query with these names instead of CIFAR-10's, in its class order. */
  classNames?: readonly string[];
}

/** CIFAR-10 with its class names replaced (synonyms a user might type), in class order. */
function withNames<T extends { classes: string[] }>(data: T, names: readonly string[] | undefined): T {
  if (!names) return data;
  if (names.length !== data.classes.length)
    throw new Error(`--class-names needs ${data.classes.length} names, in order (${data.classes.join(', ')}); got ${names.length}`);
  return { ...data, classes: [...names] };
}

/** A query's stages for `rerank` (undefined: the collection's default). */
const rerankStages = (rerank: ZeroShotOptions['rerank']) => (rerank ? { stages: { neighbours: rerank === 'none' ? (false as const) : { method: rerank } } } : {});

/** Indexes image paths as a catalogue holding nothing but the paths. */
async function withIndex<T>(images: readonly string[], opts: ZeroShotOptions, run: (c: Collection) => Promise<T>): Promise<{ result: T; indexSeconds: number }> {
  const tmp = opts.db ? null : fs.mkdtempSync(path.join(os.tmpdir(), 'visor-eval-zeroshot-'));
  const db = opts.db ?? tmp!;
  const catalogue = `${db}.paths.csv`;
  fs.writeFileSync(catalogue, ['path', ...images].join('\n'));
  const c = await Collection.open({ db, create: true, ...(opts.concepts ? { concepts: opts.concepts } : {}) });
  if (opts.textModel) c.useTextModel(opts.textModel);
  try {
    const t0 = performance.now();
    await c.index([catalogue], { onProgress: opts.onIndexProgress, facts: opts.facts ?? BUILT_READERS });
    // A collection keeps a neighbour graph only when its defaults read one: build it for the re-ranking asked for.
    if (readsGraph(opts.rerank)) await (await c.neighbourGraph()).refresh({ force: true });
    const indexSeconds = (performance.now() - t0) / 1000;
    return { result: await run(c), indexSeconds };
  } finally {
    await c.close();
    fs.rmSync(catalogue, { force: true });
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  }
}

/** Row of every image path in the collection's probability matrix. */
async function rowsByPath(c: Collection): Promise<{ ids: readonly string[]; rowOf: Map<string, number>; idOf: Map<string, string> }> {
  const { ids } = await c.store.vectors();
  const row = new Map(ids.map((id, i) => [id, i]));
  const rowOf = new Map<string, number>();
  const idOf = new Map<string, string>();
  for (const s of await c.store.fileStates()) {
    rowOf.set(s.path, row.get(s.id)!);
    idOf.set(s.path, s.id);
  }
  return { ids, rowOf, idOf };
}

export interface CifarZeroShotReport {
  protocol: string;
  images: number;
  /** How each class name was read: the WordNet concept and how many ImageNet classes it covers. */
  queries: Array<{ name: string; concept: string; imagenetClasses: number; ap: number }>;
  /** Class names no signal understood: reported, ranked nothing (AP 0), their images counted as misclassified. */
  notUnderstood: string[];
  metrics: { accuracy: number; map: number; precisionAt100: number };
  /**
   * What calibration (dividing by the collection's mean class probability) and visual expansion
   * each do: accuracy and mAP from the signal's scores with each turned off.
   */
  ablation: Record<'raw' | 'calibrated' | 'rawExpanded' | 'calibratedExpanded', { accuracy: number; map: number }>;
  confusion: number[][];
  seconds: { index: number; search: number };
}

function rankedBy(scores: Float32Array, relevant: (row: number) => boolean, total: number): RankedQuery {
  const order = Array.from(scores.keys()).sort((a, b) => scores[b]! - scores[a]! || a - b);
  return { relevant: Uint8Array.from(order, (r) => (relevant(r) ? 1 : 0)), totalRelevant: total };
}

/**
 * CIFAR-10's ten class names as text queries over its 10,000 test images. Classification: each
 * image takes the class whose concept scores highest. Retrieval: each name's ranking from the
 * search engine (the same call as `visor search <name>`), relevant = that class.
 */
export async function evalCifar10ZeroShot(opts: ZeroShotOptions = {}): Promise<CifarZeroShotReport> {
  const data = withNames(loadCifar10(), opts.classNames);
  const step = opts.limit && opts.limit < data.images.length ? data.images.length / opts.limit : 1;
  const images = Array.from({ length: Math.floor(data.images.length / step) }, (_, i) => data.images[Math.floor(i * step)]!);
  const { result, indexSeconds } = await withIndex(
    images.map((im) => im.path),
    opts,
    async (c) => {
      const t0 = performance.now();
      const { ids, rowOf } = await rowsByPath(c);
      const labelOfRow = new Int32Array(ids.length).fill(-1);
      for (const im of images) labelOfRow[rowOf.get(im.path)!] = im.label;
      const labels = images.map((im) => im.label);
      const rows = images.map((im) => rowOf.get(im.path)!);
      const perClass = data.classes.map((_, k) => images.filter((im) => im.label === k).length);
      const { signal } = await c.conceptModel();
      const vectors = () => c.store.vectors();

      // Retrieval through the engine, exactly as a user's query runs.
      const queries: CifarZeroShotReport['queries'] = [];
      const ranked: RankedQuery[] = [];
      const rowOfId = new Map(ids.map((id, i) => [id, i]));
      for (const [k, name] of data.classes.entries()) {
        const r = await c.search({ text: name, k: ids.length, lean: true, ...rerankStages(opts.rerank) });
        const q: RankedQuery = {
          relevant: Uint8Array.from(r.results, (x) => (labelOfRow[rowOfId.get(x.id)!] === k ? 1 : 0)),
          totalRelevant: perClass[k]!,
        };
        ranked.push(q);
        const term = signal.interpret([name]).terms[0];
        queries.push({ name, concept: term?.concept ?? '(none)', imagenetClasses: term?.classes.size ?? 0, ap: summarize([q], { ks: [1] }).mapAll });
        opts.onSearchProgress?.(k + 1, data.classes.length);
      }

      // Classification: per image, the class name whose concept score (the signal the search
      // uses, standardised over the collection) is highest. Also without calibration and expansion.
      const variant = async (sig: ConceptSignal) => {
        const { scores: per, notUnderstood } = await labelScores(sig, data.classes, ids);
        const cls = classifyByScores(per, rows, labels);
        // A name not understood ranks nothing: its AP is 0, and the others keep their figures.
        const map = summarize(
          per.map((sc, k) =>
            sc
              ? rankedBy(
                  Float32Array.from(rows, (r) => sc[r]!),
                  (i) => labels[i] === k,
                  perClass[k]!,
                )
              : { relevant: new Uint8Array(0), totalRelevant: perClass[k]! },
          ),
          { ks: [1] },
        ).mapAll;
        return { accuracy: cls.accuracy, map, confusion: cls.confusion, notUnderstood };
      };
      const full = await variant(signal);
      const senses = { senses: opts.concepts?.senses };
      const ablation = {
        raw: await variant(
          new ConceptSignal(
            signal.space,
            c.store,
            { ...senses, calibration: 'none' satisfies Calibration, expansion: false },
            undefined,
            undefined,
            signal.words,
          ),
        ),
        calibrated: await variant(new ConceptSignal(signal.space, c.store, { ...senses, expansion: false }, undefined, undefined, signal.words)),
        rawExpanded: await variant(
          new ConceptSignal(signal.space, c.store, { ...senses, calibration: 'none' }, vectors, (q) => c.store.scoreAll('vector', q, 1), signal.words),
        ),
      };
      const s = summarize(ranked, { ks: [100] });
      return {
        queries,
        metrics: { accuracy: full.accuracy, map: s.mapAll, precisionAt100: s.precisionAtK[100]! },
        ablation: {
          raw: { accuracy: ablation.raw.accuracy, map: ablation.raw.map },
          calibrated: { accuracy: ablation.calibrated.accuracy, map: ablation.calibrated.map },
          rawExpanded: { accuracy: ablation.rawExpanded.accuracy, map: ablation.rawExpanded.map },
          calibratedExpanded: { accuracy: full.accuracy, map: full.map },
        },
        confusion: full.confusion,
        notUnderstood: full.notUnderstood,
        search: (performance.now() - t0) / 1000,
      };
    },
  );
  return {
    protocol:
      'CIFAR-10 test, zero-shot: the 10 class names as text queries (WordNet concepts over ImageNet classes, no hand mapping, no training); ' +
      "accuracy = argmax concept per image; mAP over each name's full ranking",
    images: images.length,
    queries: result.queries,
    metrics: result.metrics,
    ablation: result.ablation,
    confusion: result.confusion,
    notUnderstood: result.notUnderstood,
    seconds: { index: indexSeconds, search: result.search },
  };
}

export interface FlickrZeroShotReport {
  protocol: string;
  split: 'test' | 'dev';
  images: number;
  captions: number;
  /** Captions no signal understood (ranked last). */
  notUnderstood: number;
  /** Per signal, the share of captions it understood (read something it could score), 0–1. */
  understood: Record<string, number>;
  /** The weights the queries ran with (the signals' defaults where left out). */
  weights: Partial<SignalWeights>;
  /** Recall@K in %, as the trained model's evaluation reports it. */
  textToImage: CrossModalMetrics;
  seconds: { index: number; search: number };
}

/** Flickr8k captions as text queries over their images (5 per image); rank of the captioned image. */
export async function evalFlickr8kZeroShot(opts: ZeroShotOptions & { split?: 'test' | 'dev' } = {}): Promise<FlickrZeroShotReport> {
  const split = opts.split ?? 'test';
  const data = loadFlickr8k(split);
  const images = opts.limit ? data.images.slice(0, opts.limit) : data.images;
  const { result, indexSeconds } = await withIndex(
    images.map((im) => im.path),
    opts,
    async (c) => {
      const t0 = performance.now();
      const { ids, idOf } = await rowsByPath(c);
      const ranks: number[] = [];
      let notUnderstood = 0;
      const understood: Record<string, number> = {};
      const total = images.reduce((a, im) => a + im.captions.length, 0);
      for (const im of images) {
        const target = idOf.get(im.path)!;
        for (const caption of im.captions) {
          const r = await c.search({ text: caption, k: ids.length, lean: true, weights: opts.weights, fusion: opts.fusion, ...rerankStages(opts.rerank) });
          if (!r.understood) notUnderstood++;
          for (const s of r.signals) understood[s.name] = (understood[s.name] ?? 0) + (s.understood ? 1 / total : 0);
          const at = r.results.findIndex((x) => x.id === target);
          ranks.push(at < 0 ? ids.length : at + 1);
          if (ranks.length % 100 === 0 || ranks.length === total) opts.onSearchProgress?.(ranks.length, total);
        }
      }
      return { ranks, notUnderstood, understood, search: (performance.now() - t0) / 1000 };
    },
  );
  const { ranks } = result;
  return {
    protocol:
      `Flickr8k ${split}, zero-shot text→image: each caption queries the ${images.length} images ` +
      `(concepts + keywords${(opts.facts ?? BUILT_READERS).length ? ` + the facts read at index time: ${(opts.facts ?? BUILT_READERS).join(', ')}` : ''}, no training); R@K = captioned image in the top K`,
    split,
    images: images.length,
    captions: ranks.length,
    notUnderstood: result.notUnderstood,
    understood: result.understood,
    weights: opts.weights ?? {},
    textToImage: summarizeRanks(ranks),
    seconds: { index: indexSeconds, search: result.search },
  };
}

export interface TagsReport {
  protocol: string;
  split: 'test' | 'dev';
  images: number;
  /** Share of images whose top-k tags include a caption noun, or a hypernym or hyponym of one. */
  hitRate: number;
  /** The same, counting only tags that are a caption noun or a kind of one (not broader terms). */
  strictHitRate: number;
  k: number;
  /** Which tags hit most often, for a feel of what the tagger is good at. */
  topHits: Array<{ tag: string; images: number }>;
  examples: Array<{ image: string; tags: string[]; nouns: string[]; hit: boolean }>;
  seconds: { index: number; tagging: number };
}

/** Function words WordNet also lists as nouns ("a" the vitamin, "in" the inch, "it" the game). */
const NOT_CAPTION_NOUNS = new Set([
  'a',
  'an',
  'the',
  'in',
  'on',
  'at',
  'of',
  'is',
  'are',
  'it',
  'its',
  'to',
  'as',
  'be',
  'or',
  'and',
  'one',
  'two',
  'three',
  'four',
  'five',
  'up',
  'out',
  'he',
  'she',
  'his',
  'her',
  'i',
  'do',
  'go',
  'am',
]);

/**
 * `visor tags` on Flickr8k images: an image counts when one of its top-k tags is a noun of one of
 * its captions (lemmatised), or a hypernym or hyponym of one ("dog" for "terrier", "retriever" for
 * "dog"). Caption nouns are read in their common senses (WordNet's first sense, or any sense seen
 * in its tagged corpora).
 */
export async function evalTags(opts: ZeroShotOptions & { split?: 'test' | 'dev'; k?: number } = {}): Promise<TagsReport> {
  const split = opts.split ?? 'test';
  const k = opts.k ?? 5;
  const data = loadFlickr8k(split);
  const images = opts.limit ? data.images.slice(0, opts.limit) : data.images;
  const { result, indexSeconds } = await withIndex(
    images.map((im) => im.path),
    opts,
    async (c) => {
      const t0 = performance.now();
      const { tagger, space, signal } = await c.conceptModel();
      const { idOf } = await rowsByPath(c);
      let hits = 0;
      let strictHits = 0;
      const hitCount = new Map<string, number>();
      const examples: TagsReport['examples'] = [];
      for (const [n, im] of images.entries()) {
        const tags = await c.tags({ id: idOf.get(im.path)! }, { k });
        const nouns = new Set<string>();
        const synsets = new Map<number, ReturnType<typeof space.wordnet.synset>>();
        for (const cap of im.captions) {
          const toks = (cap.toLowerCase().match(/[\p{L}]+/gu) ?? []).filter((t) => !NOT_CAPTION_NOUNS.has(t));
          for (const m of space.phraseMatches(toks)) {
            if (!m.lemma || (m.end - m.start === 1 && !signal.readsAsNoun(m.text))) continue;
            nouns.add(m.lemma);
            for (const s of space.wordnet.senses(m.lemma)) {
              if (s.sense === 1 || s.tagCount > 0) synsets.set(s.synset.offset, s.synset);
            }
          }
        }
        const hitTags = tags.filter((t) => [...synsets.values()].some((s) => tagger.related(space.wordnet.synset(t.synset), s)));
        const hit = hitTags.length > 0;
        if (hit) hits++;
        // Strict: a tag that is a caption noun or a kind of one (broader tags do not count).
        const strict = tags.some((t) => {
          const ts = space.wordnet.synset(t.synset);
          const up = new Set([ts.offset, ...space.wordnet.ancestors(ts).map((a) => a.synset.offset)]);
          return [...synsets.keys()].some((o) => up.has(o));
        });
        if (strict) strictHits++;
        for (const t of hitTags) hitCount.set(t.label, (hitCount.get(t.label) ?? 0) + 1);
        if (examples.length < 8)
          examples.push({ image: path.basename(im.path), tags: tags.map((t) => `${t.label} ${t.confidence.toFixed(2)}`), nouns: [...nouns].slice(0, 12), hit });
        if ((n + 1) % 50 === 0 || n + 1 === images.length) opts.onSearchProgress?.(n + 1, images.length);
      }
      const topHits = [...hitCount]
        .sort((a, b) => b[1] - a[1])
        .slice(0, 12)
        .map(([tag, n]) => ({ tag, images: n }));
      return { hitRate: hits / images.length, strictHitRate: strictHits / images.length, topHits, examples, tagging: (performance.now() - t0) / 1000 };
    },
  );
  return {
    protocol: `Flickr8k ${split}: top-${k} tags per image against the nouns of its 5 captions (lemmatised; hypernyms and hyponyms count)`,
    split,
    images: images.length,
    hitRate: result.hitRate,
    strictHitRate: result.strictHitRate,
    k,
    topHits: result.topHits,
    examples: result.examples,
    seconds: { index: indexSeconds, tagging: result.tagging },
  };
}
