import fs from 'node:fs/promises';
import type { ConceptReader } from '../compose/search-signal.js';
import { VisorError, isVisorError } from '../errors.js';
import type { ImageEncoder } from '../models/types.js';
import type { LanceStore } from '../store/lance-store.js';
import type { MetaRecord } from '../store/types.js';
import { fuse, topIndices, type FusionMethod, type SignalScores } from './fusion.js';
import { asWeighted, DEFAULT_WEIGHTS, parseQueryText, type ImageRef, type Query, type SignalWeights } from './query.js';
import { hydrate, type SearchResult } from './results.js';

/** Why an item was returned, per signal. */
export interface MatchReason {
  /** Cosine similarity to the (combined) query images. */
  visual?: number;
  /** Text query words found in the file name or catalogue fields, with the BM25 score. */
  keywords?: { score: number; words: string[] };
  /** Visual concepts the text matched, with the image's probability mass for each. */
  concepts?: Array<{ term: string; concept: string; score: number; top: Array<{ label: string; p: number }> }>;
  /** Trained text–image model similarity. */
  joint?: number;
  /** Vision–language model (CLIP) similarity of the words to the image. */
  clip?: number;
  /** Negative terms this item resembles (they pushed it down). */
  penalised?: string[];
  /** Score of the composed query (reference images changed by the text). */
  composed?: number;
}

export interface RankedResult extends SearchResult {
  why: MatchReason;
}

export interface SignalReport {
  name: keyof SignalWeights;
  understood: boolean;
  note?: string;
}

export interface SearchResponse {
  results: RankedResult[];
  /** False when no signal could make sense of the query: results are then empty. */
  understood: boolean;
  message?: string;
  signals: SignalReport[];
  fusion: FusionMethod | 'single';
}

/** A text signal: turns query words into a score per item, and explains a score. */
export interface TextSignal {
  readonly name: 'concepts' | 'joint' | 'clip';
  /** Scores for the given words, aligned with `ids`; null when none of the words means anything to it. */
  /**
   * Scores for the given words, aligned with `ids`; null when none of the words means anything to it.
   * `weight` (default 1) multiplies the query's weight for this signal: how far the signal trusts
   * its reading of these particular words (a model trained on sentences, given one word).
   */
  score(words: string[], ids: readonly string[]): Promise<{ scores: Float32Array; note?: string; floor?: number; weight?: number } | null>;
  explain?(words: string[], row: number): Promise<MatchReason[keyof MatchReason]>;
}

export interface EngineDeps {
  store: LanceStore;
  encoder: () => Promise<ImageEncoder>;
  textSignals?: TextSignal[];
  fusion?: FusionMethod;
}

/** How far a query moves away from its negative images, relative to its positive ones. */
const NEGATIVE_IMAGE_SHARE = 0.5;

function normalise(v: Float32Array): Float32Array {
  let n = 0;
  for (const x of v) n += x * x;
  const inv = n > 0 ? 1 / Math.sqrt(n) : 0;
  return v.map((x) => x * inv);
}

const WORD = /[\p{L}\p{N}]+/gu;
function wordsOf(text: string): string[] {
  return (text.toLowerCase().match(WORD) ?? []).filter((w) => w.length > 1);
}

/** Query words present in an item's text, allowing for inflection (dress ~ dresses). */
export function matchedWords(query: string[], text: string): string[] {
  const tokens = new Set(wordsOf(text.replace(/([a-z])([A-Z])/g, '$1 $2')));
  const stem = (w: string) => w.slice(0, Math.max(3, w.length - 2));
  return [...new Set(query)].filter((q) => {
    const s = stem(q.toLowerCase());
    for (const t of tokens) if (t.startsWith(s) || s.startsWith(stem(t))) return true;
    return false;
  });
}

async function readImage(ref: ImageRef): Promise<Buffer> {
  if (Buffer.isBuffer(ref)) return ref;
  try {
    return await fs.readFile(ref);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const reason = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'it is a folder' : (e as Error).message;
    throw new VisorError('IMAGE_UNREADABLE', `cannot read query image ${ref}: ${reason}`, { cause: e });
  }
}

/**
 * Answers a Query: each signal scores every item (exactly, from vectors held in memory), the
 * scores are fused, filters and exclusions applied, and each result says why it matched.
 * A query with only image terms and nothing to fuse takes the store's own (ANN) search path.
 */
export class SearchEngine {
  constructor(private readonly deps: EngineDeps) {}

  async search(query: Query): Promise<SearchResponse> {
    const k = query.k ?? 10;
    const offset = query.offset ?? 0;
    if (!Number.isInteger(k) || k < 1) throw new VisorError('QUERY_INVALID', `k must be a positive integer, got ${k}`);
    if (!Number.isInteger(offset) || offset < 0) throw new VisorError('QUERY_INVALID', `offset must be a non-negative integer, got ${offset}`);
    const w: SignalWeights = { ...DEFAULT_WEIGHTS, ...query.weights };
    const text = parseQueryText(query.text ?? '');
    // A composed query's own words: positive ones change the reference, negative ones join the rest.
    const composeText = query.compose ? parseQueryText(query.compose.text) : null;
    if (composeText) {
      if (composeText.positive.length === 0) throw new VisorError('QUERY_INVALID', 'a composed query needs words saying how the results should differ from the image');
      if ((query.images ?? []).length + (query.like ?? []).length === 0) {
        throw new VisorError('QUERY_INVALID', 'a composed query needs a reference: an image or an item to find more like');
      }
      text.negative.push(...composeText.negative);
    }
    const images = (query.images ?? []).map(asWeighted);
    const notImages = (query.notImages ?? []).map(asWeighted);
    const like = query.like ?? [];
    const unlike = query.unlike ?? [];
    if (text.positive.length + images.length + like.length === 0) {
      throw new VisorError('QUERY_INVALID', 'give something to search for: words, an image, or an item to find more like');
    }
    const { store } = this.deps;

    // Query images and items become vectors in the image-feature space.
    // Imported only when needed: a dynamic import costs a module resolution on every search.
    const encodeImage = images.length + notImages.length ? (await import('./image-search.js')).encodeImage : null;
    const encoded = await Promise.all(
      [...images, ...notImages].map(async (t) => {
        const bytes = await readImage(t.image);
        try {
          return { ...t, ...(await encodeImage!(await this.deps.encoder(), bytes, query.maxPixels)) };
        } catch (e) {
          // With several query images, which one is broken matters.
          if (typeof t.image === 'string' && isVisorError(e, 'IMAGE_INVALID')) throw new VisorError('IMAGE_INVALID', `query image ${t.image}: ${e.message}`, { cause: e });
          throw e;
        }
      }),
    );
    const pos = encoded.slice(0, images.length);
    const neg = encoded.slice(images.length);
    const feedback = await store.getItemsWithVectors([...like, ...unlike]);
    const missing = [...like, ...unlike].filter((id) => !feedback.some((f) => f.id === id));
    if (missing.length) throw new VisorError('NOT_FOUND', `no item with id ${missing.join(', ')}`);
    const exclude = new Set<string>([...like, ...unlike]);
    if (query.excludeSelf) for (const e of encoded) exclude.add(e.id);

    // One visual query vector: the weighted mean of what to look like, moved away from what
    // not to look like (rclip's and Marqo's negative terms, Rocchio's relevance feedback).
    const mean = (terms: Array<{ vector: Float32Array; weight: number }>): Float32Array | null => {
      if (terms.length === 0) return null;
      const q = new Float32Array(terms[0]!.vector.length);
      let total = 0;
      for (const t of terms) {
        total += t.weight;
        for (let i = 0; i < q.length; i++) q[i]! += t.weight * t.vector[i]!;
      }
      return q.map((x) => x / (total || 1));
    };
    const toward = mean([
      ...pos.map((p) => ({ vector: p.vector, weight: p.weight ?? 1 })),
      ...feedback.filter((f) => like.includes(f.id)).map((f) => ({ vector: f.vector, weight: 1 })),
    ]);
    const away = mean([
      ...neg.map((p) => ({ vector: p.vector, weight: p.weight ?? 1 })),
      ...feedback.filter((f) => unlike.includes(f.id)).map((f) => ({ vector: f.vector, weight: 1 })),
    ]);
    const visualPos = toward
      ? normalise(away ? toward.map((x, i) => x - NEGATIVE_IMAGE_SHARE * w.negative * away[i]!) : toward)
      : null;
    const visualNeg = !toward && away ? normalise(away) : null; // words, but images to avoid

    // Image terms only: the store's own search (ANN past its threshold) is the fastest path.
    if (visualPos && text.positive.length === 0 && text.negative.length === 0 && !composeText) {
      const hits = await store.search(visualPos, { k: k + offset, where: query.where, exact: query.exact, exclude });
      const results = await hydrate(store, hits, offset);
      return {
        results: results.map((r) => ({ ...r, why: { visual: r.score } })),
        understood: true,
        signals: [{ name: 'visual', understood: true }],
        fusion: 'single',
      };
    }

    const { ids } = await store.vectors();
    const n = ids.length;
    const rowOf = rowIndex(ids);
    const signals: Array<SignalScores & { name: keyof SignalWeights | 'negative'; label?: string }> = [];
    const reports: SignalReport[] = [];
    // A composed query replaces the visual signal: the reference is part of it.
    let composed: Float32Array | null = null;
    if (composeText && visualPos) {
      const { composedScores } = await import('../compose/search-signal.js');
      const concepts = this.deps.textSignals?.find((s) => s.name === 'concepts' && 'interpret' in s) as ConceptReader | undefined;
      const c = await composedScores(store, visualPos, composeText.positive.join(' '), query.compose, concepts);
      composed = c.scores;
      signals.push({ name: 'composed', scores: composed, weight: w.composed, polarity: 1, depth: n });
      const note = c.ignored.length ? `${c.method}; not used: ${c.ignored.join(', ')}` : c.method;
      reports.push({ name: 'composed', understood: c.used.length > 0, note });
    }
    const visual = visualPos && !composed ? (await store.scoreAll('vector', visualPos, 1)).scores : null;
    if (visual) {
      signals.push({ name: 'visual', scores: visual, weight: w.visual, polarity: 1, depth: n });
      reports.push({ name: 'visual', understood: true });
    }
    const visualAgainst = visualNeg ? (await store.scoreAll('vector', visualNeg, 1)).scores : null;
    // Only with no positive image to fold it into: items that look like the image are demoted.
    if (visualAgainst) signals.push({ name: 'negative', label: 'images to avoid', scores: visualAgainst, weight: w.negative, polarity: -1, floor: 0.6, depth: 200 });

    const keywordScores = async (terms: string[]): Promise<Float32Array | null> => {
      if (terms.length === 0) return null;
      const byRow = await store.keywordRows(terms.join(' '), Math.min(n, 2000), ids);
      if (byRow) {
        if (byRow.hits === 0) return null;
        const s = new Float32Array(n);
        for (let i = 0; i < byRow.rows.length; i++) s[byRow.rows[i]!] = byRow.scores[i]!;
        return s;
      }
      const hits = await store.keywordSearch(terms.join(' '), { k: Math.min(n, 2000) });
      if (hits.length === 0) return null;
      const s = new Float32Array(n);
      for (const h of hits) {
        const r = rowOf.get(h.id);
        if (r !== undefined) s[r] = h.score;
      }
      return s;
    };
    const textTerms = text.positive;
    if (textTerms.length) {
      const kw = w.keywords === 0 ? null : await keywordScores(textTerms);
      reports.push({ name: 'keywords', understood: kw !== null, note: kw ? undefined : 'no file name or catalogue field contains these words' });
      if (kw) signals.push({ name: 'keywords', scores: kw, weight: w.keywords, polarity: 1, floor: 0 });
      for (const sig of this.deps.textSignals ?? []) {
        if (w[sig.name] === 0) continue; // switched off by the caller
        const r = await sig.score(textTerms, ids);
        reports.push({ name: sig.name, understood: r !== null, note: r?.note });
        if (r) signals.push({ name: sig.name, scores: r.scores, weight: w[sig.name] * (r.weight ?? 1), polarity: 1, floor: r.floor, depth: n });
      }
    }
    for (const term of text.negative) {
      const kw = await keywordScores([term]);
      if (kw) signals.push({ name: 'negative', label: `-${term}`, scores: kw, weight: w.negative, polarity: -1, floor: 0 });
      for (const sig of this.deps.textSignals ?? []) {
        const r = await sig.score([term], ids);
        if (r) signals.push({ name: 'negative', label: `-${term}`, scores: r.scores, weight: w.negative, polarity: -1, floor: r.floor, depth: 200 });
      }
    }

    const positive = signals.filter((s) => s.polarity > 0);
    if (positive.length === 0) {
      const unknown = textTerms.map((t) => JSON.stringify(t)).join(', ');
      // Signals the caller's weights switched off did not get to read the words: say so, not that nothing knows them.
      const off = textTerms.length ? [...(w.keywords === 0 ? ['keywords'] : []), ...(this.deps.textSignals ?? []).filter((sig) => w[sig.name] === 0).map((sig) => sig.name)] : [];
      return {
        results: [],
        understood: false,
        message: off.length
          ? `nothing answers ${unknown}: ${off.join(', ')} ${off.length === 1 ? 'is' : 'are'} switched off (weight 0), and no other signal understood it`
          : `nothing in this collection matches ${unknown}: no visual concept the image model knows, and no file name or catalogue field contains it`,
        signals: reports,
        fusion: 'single',
      };
    }

    const method: FusionMethod | 'single' = positive.length === 1 && signals.length === 1 ? 'single' : (query.fusion ?? this.deps.fusion ?? 'rrf');
    const fused = method === 'single' ? positive[0]!.scores.map((x) => (x > (positive[0]!.floor ?? -Infinity) ? x : -Infinity)) : fuse(signals, n, method);
    let mask: Uint8Array | undefined;
    if (query.where) {
      mask = new Uint8Array(n);
      for (const id of await store.idsWhere(query.where)) {
        const r = rowOf.get(id);
        if (r !== undefined) mask[r] = 1;
      }
    }
    if (exclude.size) {
      mask ??= new Uint8Array(n).fill(1);
      for (const id of exclude) {
        const r = rowOf.get(id);
        if (r !== undefined) mask[r] = 0;
      }
    }
    const rows = topIndices(fused, k + offset, -Infinity, mask);

    const page = Array.from(rows.slice(offset));
    const hits = page.map((r) => ({ id: ids[r]!, score: fused[r]! }));
    if (query.lean) {
      const results = hits.map((h, i) => ({ rank: offset + i + 1, ...h, path: '', paths: [], width: 0, height: 0, format: '', meta: {}, why: {} }));
      return { results, understood: true, signals: reports, fusion: method };
    }
    // hydrate() skips the first `offset` hits itself, so it is given them all.
    const results = await hydrate(store, Array.from(rows, (r) => ({ id: ids[r]!, score: fused[r]! })), offset);
    const rowOfPage = new Map(page.map((r) => [ids[r]!, r]));
    const explained: RankedResult[] = [];
    for (const res of results) {
      const row = rowOfPage.get(res.id)!;
      const why: MatchReason = {};
      if (visual) why.visual = visual[row];
      if (composed) why.composed = composed[row];
      const kw = signals.find((s) => s.name === 'keywords');
      if (kw && kw.scores[row]! > 0) why.keywords = { score: kw.scores[row]!, words: matchedWords(textTerms.flatMap(wordsOf), textOf(res.path, res.meta)) };
      for (const sig of this.deps.textSignals ?? []) {
        if (signals.some((s) => s.name === sig.name) && sig.explain) (why as Record<string, unknown>)[sig.name] = await sig.explain(textTerms, row);
      }
      const penalised = signals.filter((s) => s.polarity < 0 && s.scores[row]! > (s.floor ?? 0)).map((s) => s.label ?? 'negative');
      if (penalised.length) why.penalised = penalised;
      explained.push({ ...res, why });
    }
    return { results: explained, understood: true, signals: reports, fusion: method };
  }
}

/** Row of each id, per ids array (the store's, which is replaced whenever the table changes). */
const rowIndexes = new WeakMap<readonly string[], Map<string, number>>();
function rowIndex(ids: readonly string[]): Map<string, number> {
  let m = rowIndexes.get(ids);
  if (!m) rowIndexes.set(ids, (m = new Map(ids.map((id, i) => [id, i]))));
  return m;
}

function textOf(p: string, meta: MetaRecord): string {
  return [p.split('/').pop() ?? p, ...Object.values(meta).filter((v) => typeof v === 'string')].join(' ');
}
