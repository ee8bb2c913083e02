/**
 * The plug-in interfaces of the query pipeline. A signal scores every item of the collection
 * for one query (visual similarity, keywords, concepts, a text tower…); a stage changes the
 * ranking around them (narrowing to categories, comparing objects, re-ranking the head).
 * Adding one is a new file implementing these and registered with the collection: no engine
 * type names them.
 */
import type { SignalScores } from './fusion.js';
import type { EncodedQuery } from './encode.js';
import type { ParsedText, Query } from './query.js';
import type { SearchStore } from './store.js';

/** Why an item was returned: one entry per signal that scored it, under the signal's name. */
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
  /** Stages and further signals add their own reasons under their names. */
  [signal: string]: unknown;
}

export interface SignalReport {
  name: string;
  understood: boolean;
  note?: string;
}

/** One signal's scores for one part of a query, as fusion takes them. */
export interface Contribution extends SignalScores {
  /** The weight it counts under (its signal's name, or 'negative'). */
  name: string;
  /** For negative contributions: what pushed items down ("-grass", "images to avoid"). */
  label?: string;
}

export interface SignalOutcome {
  contributions: Contribution[];
  /** Told to the caller (`signals` in the response); left out for a signal that had nothing to read. */
  report?: SignalReport;
}

/**
 * Everything a signal may read about the query being answered: the request, its words, its
 * encoded images, and the snapshot of the collection's rows that every score array follows.
 */
export interface QueryContext {
  readonly query: Query;
  readonly weights: Readonly<Record<string, number>>;
  /** The query's words: positive terms, and negative ones (a composed query's included). */
  readonly text: ParsedText;
  /** A composed query's own words ("with a red ball"), or null. */
  readonly composeText: ParsedText | null;
  readonly store: SearchStore;
  /** The query's images and items as vectors in the space searched. */
  readonly encoded: EncodedQuery;
  /** Row order of every score array: the store's ids. */
  readonly ids: readonly string[];
  readonly rowOf: ReadonlyMap<string, number>;
  /** Whether a filter (where, colour, people…) limits which items may be returned: a stage then adds no item the first ranking did not hold. */
  readonly filtered: boolean;
  /** What the query's stages prepared (e.g. object scores replacing whole-image ones). */
  readonly stageState: StageState;
}

/** Scores every item for a query; one file per signal under signals/. */
export interface Signal {
  /** Its weight's name in `Query.weights`, and its key in each result's `why`. */
  readonly name: string;
  /** True for signals that read the query's words: a query nothing understood says which were off. */
  readonly readsText?: boolean;
  /** Its weight when the query gives none (default 1): chosen where the signal was measured. */
  readonly defaultWeight?: number;
  /** The query as a whole: its positive words, images, composition (null when it gives the signal nothing). */
  score(ctx: QueryContext): Promise<SignalOutcome | null>;
  /** One negative word or phrase ("-grass"): items it scores high are pushed down. */
  scoreNegative?(ctx: QueryContext, term: string): Promise<Contribution | null>;
  /** This signal's reason for an item it scored (row in `ctx.ids`). */
  explain?(ctx: QueryContext, row: number, outcome: SignalOutcome, item: { path: string; meta: Record<string, unknown> }): Promise<unknown> | unknown;
}

/** A hit being ranked: its row in `ctx.ids` and its score. */
export interface Candidate {
  row: number;
  score: number;
  /** Reasons a stage adds (merged into `why`). */
  why?: Record<string, unknown>;
}

/**
 * A stage around the signals: switched on per query, it may prepare the query, bias the fused
 * scores before ranking (narrowing), and reorder the ranked head (re-ranking).
 */
export interface Stage {
  readonly name: string;
  /**
   * True for a stage that only re-ranks the top hits by the images' own features: a query of
   * images alone then keeps the store's top-k path (the store's top `depth`, then its rerank).
   */
  readonly onHits?: boolean;
  /** Whether this query asks for it (or the collection turns it on by default). */
  active(query: Query): boolean;
  /** Runs once before the signals: e.g. replaces the visual query with the query's object. */
  prepare?(ctx: QueryContext, state: StageState): Promise<void>;
  /** Added to the fused scores before the top-k is taken (−Infinity excludes a row). */
  bias?(ctx: QueryContext, fused: Float32Array, state: StageState): Promise<void>;
  /** How many ranked candidates it wants to see (re-rankers look past the page). */
  depth?(ctx: QueryContext): number;
  /** Reorders (or annotates) the ranked candidates, best first. */
  rerank?(ctx: QueryContext, candidates: Candidate[], state: StageState): Promise<void>;
}

/** What stages tell the pipeline and each other during one query. */
export interface StageState {
  /** Replaces the visual signal's scores (e.g. object features instead of whole images). */
  visualScores?: Float32Array;
  /** Per row, what a stage added to the fused score to order tiers (narrowing), for the stages after it. */
  rowBonus?: Float32Array;
  /** Facts about the query reported back (predicted categories, the object found…). */
  report: Record<string, unknown>;
}

export type { SignalScores };
