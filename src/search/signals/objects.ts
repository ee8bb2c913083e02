/**
 * The query's objects, people and colours checked against each image's facts: "two dogs" scores
 * an image by its dog detections and how well their number agrees, "a black dog" by the black
 * in the dog's box, "a man in a red shirt" by the red in a person's box, "green grass" by the
 * image's green. Several terms are a soft AND (a sum of logs), as the concept reader's.
 */
import type { ColourShare, Detection, ImageFacts } from '../../core/facts.js';
import type { CocoWords } from '../../concepts/coco-words.js';
import type { FactsView } from '../facts-source.js';
import { readFactsQuery, type ColourTerm, type FactsReading, type ObjectTerm } from '../facts-query.js';
import type { QueryContext, Signal, SignalOutcome } from '../signal.js';
import { standardise, topIndices } from '../fusion.js';

export interface ObjectScoring {
  /**
   * Visual query expansion, as the concept reader's: the `top` images these facts rank highest
   * become an image query whose standardised similarity is added, times `weight`, to the
   * standardised facts score. Finds the images whose objects the detector missed. false: off.
   */
  expansion: { top: number; weight: number } | false;
  /** Added to each term's 0–1 score before its log: how much one missing term costs. */
  floor: number;
  /** How fast a count that is off lowers a term's score: 1 / (1 + slope × how far off). */
  countSlope: number;
  /** A colour on an object not found in an image counts the image's colour, times this. */
  imageFallback: number;
}

/** Chosen on Flickr8k's dev split (`visor-lab eval flickr8k --zero-shot --split dev`, docs/zero-shot.md). */
export const DEFAULT_OBJECT_SCORING: ObjectScoring = { floor: 0.05, countSlope: 1.5, imageFallback: 0.5, expansion: { top: 10, weight: 1 } };
/** Its weight in fusion unless a query says otherwise (chosen on Flickr8k's dev split, as above). */
export const OBJECTS_WEIGHT = 2;

/** What reads the query's words: the class vocabulary and which words are nouns. */
export interface ObjectWords {
  words: CocoWords;
  isNoun(word: string): boolean;
}

export class ObjectsSignal implements Signal {
  readonly name = 'objects';
  readonly readsText = true;

  constructor(
    private readonly facts: FactsView,
    private readonly vocab: () => Promise<ObjectWords>,
    private readonly scoring: ObjectScoring = DEFAULT_OBJECT_SCORING,
    readonly defaultWeight = OBJECTS_WEIGHT,
  ) {}

  /** The query's words as object and colour terms. */
  async read(terms: readonly string[]): Promise<FactsReading> {
    const v = await this.vocab();
    return readFactsQuery(terms, v.words, (w) => v.isNoun(w));
  }

  async score(ctx: QueryContext): Promise<SignalOutcome | null> {
    const terms = ctx.text.positive;
    if (terms.length === 0 || ctx.weights[this.name] === 0) return null;
    const rows = await this.facts.rows(ctx.ids);
    // Only what a stage has read can answer: object words need the objects stage, colour words
    // the colours stage (a collection with neither has nothing to say here).
    const hasObjects = rows.some((f) => f?.objects);
    const hasColours = rows.some((f) => f?.colours);
    if (!hasObjects && !hasColours) return null;
    const all = await this.read(terms);
    // Without boxes, a colour said of a thing ("red car", "blue shirt") can only be the image's.
    const colours = hasObjects ? all.colours : all.colours.map((c): ColourTerm => (c.target.kind === 'image' ? c : { ...c, target: { kind: 'image' } }));
    const reading: FactsReading = { objects: hasObjects ? all.objects : [], colours: hasColours ? colours : [] };
    if (reading.objects.length + reading.colours.length === 0) {
      if (all.objects.length + all.colours.length > 0) return null;
      return { contributions: [], report: { name: this.name, understood: false, note: 'no object, person or colour the detector knows' } };
    }
    const scored = scoreReading(reading, rows, this.scoring);
    const { scores, floor } = this.scoring.expansion ? await expand(ctx, scored, this.scoring.expansion) : scored;
    return {
      contributions: [{ name: this.name, scores, weight: ctx.weights[this.name]!, polarity: 1, floor, depth: ctx.ids.length }],
      report: { name: this.name, understood: true, note: describe(reading) },
    };
  }

  async explain(ctx: QueryContext, row: number, outcome: SignalOutcome): Promise<string[] | undefined> {
    if (outcome.contributions.length === 0) return undefined;
    const f = (await this.facts.rows(ctx.ids))[row];
    if (!f) return undefined;
    const reading = await this.read(ctx.text.positive);
    const out: string[] = [];
    for (const t of reading.objects) {
      const found = (f.objects ?? []).filter((d) => t.labels.includes(d.label));
      for (const label of new Set(found.map((d) => d.label))) out.push(`${label} ×${found.filter((d) => d.label === label).length}`);
    }
    for (const c of reading.colours) {
      const where = colourSource(c, reading.objects, f);
      if (where && share(where.colours, c.colour) > 0) out.push(`${c.colour} in ${where.name}${c.implied ? ` (${c.word})` : ''}`);
    }
    return out.length ? out : undefined;
  }
}

const means = new WeakMap<readonly string[], Float32Array>();

/** The collection's mean image feature, per snapshot of the rows. */
function meanFeature(ids: readonly string[], matrix: Float32Array): Float32Array {
  let mean = means.get(ids);
  if (mean) return mean;
  const n = ids.length;
  const dim = matrix.length / n;
  const acc = new Float64Array(dim);
  for (let i = 0; i < n; i++) for (let d = 0; d < dim; d++) acc[d]! += matrix[i * dim + d]!;
  mean = Float32Array.from(acc, (x) => x / n);
  means.set(ids, mean);
  return mean;
}

/**
 * Adds to the facts score the similarity to the images it ranks highest (their offset from the
 * collection's mean feature, as the concept reader's expansion): images like the ones where the
 * detector found the dog and the counts agree, where it missed them. Rows without facts stay out.
 */
async function expand(
  ctx: QueryContext,
  scored: { scores: Float32Array; floor: number },
  e: { top: number; weight: number },
): Promise<{ scores: Float32Array; floor: number }> {
  const { ids, matrix } = await ctx.store.vectors();
  const n = ids.length;
  if (n !== ctx.ids.length || n < 4) return scored;
  const dim = matrix.length / n;
  const best = topIndices(scored.scores, Math.max(1, Math.min(e.top, Math.ceil(n / 20))), scored.floor);
  if (best.length === 0) return scored;
  const mean = meanFeature(ids, matrix);
  const q = new Float32Array(dim);
  for (const r of best) for (let d = 0; d < dim; d++) q[d]! += matrix[r * dim + d]! - mean[d]!;
  const sim = standardise((await ctx.store.scoreAll('vector', q, 1)).scores);
  const z = standardise(scored.scores);
  const out = new Float32Array(n);
  let lowest = Infinity;
  for (let i = 0; i < n; i++) {
    out[i] = z[i]! + e.weight * sim[i]!;
    if (out[i]! < lowest) lowest = out[i]!;
  }
  // Rows no stage has read keep no evidence.
  for (let i = 0; i < n; i++) if (!(scored.scores[i]! > scored.floor) && sim[i]! <= 0) out[i] = lowest;
  return { scores: out, floor: lowest };
}

/** "two dogs → dog (2), red → person box". */
function describe(r: FactsReading): string {
  const count = (t: ObjectTerm) => (t.counted ? ` (${t.count.min === t.count.max ? t.count.min : `${t.count.min}+`})` : '');
  const objects = r.objects.map((t) => `${t.text} → ${t.labels.length > 3 ? `${t.labels.slice(0, 3).join(', ')}…` : t.labels.join(', ')}${count(t)}`);
  const colours = r.colours.map(
    (c) => `${c.word} → ${c.target.kind === 'object' ? r.objects[c.target.term]!.labels[0] : c.target.kind === 'worn' ? 'person' : 'image'}`,
  );
  return [...objects, ...colours].join(', ');
}

function share(colours: readonly ColourShare[] | undefined, name: string): number {
  return colours?.find((c) => c.name === name)?.share ?? 0;
}

/** Where a colour term is looked for in one image: the best box it qualifies, or the image. */
function colourSource(c: ColourTerm, objects: readonly ObjectTerm[], f: ImageFacts): { name: string; colours?: ColourShare[]; weight: number } | null {
  const image = { name: 'image', colours: f.colours, weight: 1 };
  if (c.target.kind === 'image') return image;
  const labels = c.target.kind === 'object' ? objects[c.target.term]!.labels : ['person'];
  let best: Detection | undefined;
  let bestScore = -1;
  for (const d of f.objects ?? []) {
    if (!labels.includes(d.label)) continue;
    const s = d.score * share(d.colours, c.colour);
    if (s > bestScore) [best, bestScore] = [d, s];
  }
  return best ? { name: `${best.label} box`, colours: best.colours, weight: best.score } : { ...image, weight: -1 };
}

/**
 * Per row, the sum over terms of log(floor + term score), each term scored 0–1; rows without
 * facts get the lowest possible sum, which is also the floor under which a row has no evidence.
 */
export function scoreReading(
  r: FactsReading,
  rows: ReadonlyArray<ImageFacts | undefined>,
  s: ObjectScoring = DEFAULT_OBJECT_SCORING,
): { scores: Float32Array; floor: number } {
  const nTerms = r.objects.length + r.colours.length;
  const lowest = nTerms * Math.log(s.floor);
  const scores = new Float32Array(rows.length).fill(lowest);
  for (let i = 0; i < rows.length; i++) {
    const f = rows[i];
    if (!f) continue;
    let total = 0;
    for (const t of r.objects) total += Math.log(s.floor + (f.objects ? objectScore(t, f.objects, s) : 0));
    for (const c of r.colours) {
      const where = colourSource(c, r.objects, f);
      let v = 0;
      if (where) v = where.weight >= 0 ? where.weight * share(where.colours, c.colour) : s.imageFallback * share(where.colours, c.colour);
      total += Math.log(s.floor + v);
    }
    scores[i] = total;
  }
  return { scores, floor: lowest };
}

/**
 * 0–1: the surest detection of the term's classes, lowered as the count found is off the count
 * asked for. Every stored detection counts: the objects stage keeps those sure enough to count.
 */
export function objectScore(t: ObjectTerm, objects: readonly Detection[], s: ObjectScoring = DEFAULT_OBJECT_SCORING): number {
  let presence = 0;
  let n = 0;
  for (const d of objects) {
    if (!t.labels.includes(d.label)) continue;
    if (d.score > presence) presence = d.score;
    n++;
  }
  if (presence === 0 || !t.counted) return presence;
  const off = n < t.count.min ? t.count.min - n : n > t.count.max ? n - t.count.max : 0;
  return presence / (1 + s.countSlope * off);
}
