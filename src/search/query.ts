/**
 * What a user can ask: words, images, items to move towards or away from, and filters, each
 * with a weight. Every interface (CLI, HTTP, library) builds one of these.
 */
import type { ComposeSpec } from './compose-spec.js';

/** A query image: a file path, its bytes, or an indexed item (its stored features). */
export type ImageRef = string | Buffer | { id: string };

export interface WeightedImage {
  image: ImageRef;
  /** Relative weight among image terms (default 1). */
  weight?: number;
}

/** Weight per signal name; the built-in signals and `negative` are listed, and plug-ins add theirs. */
export interface SignalWeights {
  [signal: string]: number;
  /** Image similarity to the query images / liked items. */
  visual: number;
  /** Text through the image model's visual concepts (WordNet). */
  concepts: number;
  /** Text against file names and catalogue fields (BM25). */
  keywords: number;
  /** Text through a trained joint text–image model, when the collection has one. */
  joint: number;
  /** Text through a pretrained vision–language model (CLIP), when the index has its space. */
  clip: number;
  /** How strongly negative terms (-word, not-images, less-like items) push results down. */
  negative: number;
  /** A composed query ("this image, but …": the images moved by the text; `Query.compose`). */
  composed: number;
}

/** The built-in signals' names (each weighs 1 unless a query says otherwise); a collection has those its models allow. */
export const DEFAULT_WEIGHTS: SignalWeights = { visual: 1, concepts: 1, keywords: 1, joint: 1, clip: 1, negative: 1, composed: 1 };

export interface Query {
  /** Words; `-word` or `-"two words"` are negative terms; quotes keep phrases together. */
  text?: string;
  images?: Array<ImageRef | WeightedImage>;
  notImages?: Array<ImageRef | WeightedImage>;
  /** Indexed item ids to move towards ("more like this"). */
  like?: string[];
  /** Indexed item ids to move away from ("less like this"). */
  unlike?: string[];
  /**
   * SQL filter over catalogue columns, and over the counts of detected objects (`person_count >= 3`,
   * joined to catalogue conditions by AND at the top level) when the collection's images were read.
   */
  where?: string;
  /** Only photos with every one of these persons (names or ids, as `visor people` lists them). */
  persons?: string[];
  /** Only photos with the person whose face is (the largest) in this image, closest first. */
  face?: string | Buffer;
  /** Only items whose image, or an object in it, has this colour (a basic colour name or a synonym: "gray", "navy"). */
  colour?: string;
  k?: number;
  offset?: number;
  exact?: boolean;
  /** Leave query images that are themselves indexed out of the results. */
  excludeSelf?: boolean;
  weights?: Partial<SignalWeights>;
  /**
   * Compare query images in this further embedding space of the index (e.g. clip-vit-b32) rather
   * than the main image features. Items (like, unlike, {id}) are compared in the main features only.
   */
  space?: string;
  /** Optional stages by name (narrow, localize, rerank): true or their options; false turns a default-on one off. */
  stages?: Record<string, boolean | object>;
  /** How signals combine: reciprocal-rank ('rrf', default) or standardised scores ('score'). */
  fusion?: 'rrf' | 'score';
  /** Query images with more pixels are refused before decoding (default DEFAULT_MAX_PIXELS). */
  maxPixels?: number;
  /**
   * A composed query: the query images (and liked items) changed as this text says ("with a red
   * ball"), one query rather than separate signals; zero-shot, or through a trained model
   * (docs/compose.md). `text` above is still fused beside it; `-word`s here are negative terms.
   */
  compose?: ComposeSpec;
  /**
   * Ranking only: results carry id, rank and score but no stored record (path, metadata) and no
   * reasons. For evaluations and bulk re-ranking, where reading a thousand records per query
   * would cost more than the search.
   */
  lean?: boolean;
}

export interface ParsedText {
  /** Positive words and phrases, in order. */
  positive: string[];
  negative: string[];
}

/** Splits query text into positive and negative terms, keeping quoted phrases whole. */
export function parseQueryText(text: string): ParsedText {
  const out: ParsedText = { positive: [], negative: [] };
  const re = /(-?)"([^"]*)"|(\S+)/g;
  for (let m = re.exec(text); m !== null; m = re.exec(text)) {
    const negative = m[1] === '-' || (m[3]?.startsWith('-') && m[3].length > 1);
    const term = (m[2] ?? m[3]!.replace(/^-/, '')).trim();
    if (!term) continue;
    (negative ? out.negative : out.positive).push(term);
  }
  return out;
}
