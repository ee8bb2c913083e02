import type { ProgressMode } from '../../src/cli/progress.js';
import type { GlobalOptions } from '../../src/cli/run.js';

/** The options of `visor-lab eval`, shared by eval-cmd.ts and the evaluations it hands to eval-css-cmd.ts and eval-zeroshot-cmd.ts. */
export interface EvalCommandOptions extends GlobalOptions {
  limit?: number;
  /** cifar10-classify: mirror images (--no-mirror turns them off). */
  mirror?: boolean;
  queries?: number;
  epochs?: number;
  encoder?: string;
  keep?: string;
  out?: string;
  textModel?: string;
  fused?: boolean;
  weights?: string;
  fusion?: 'rrf' | 'score';
  progress: ProgressMode;
  zeroShot?: boolean;
  /** flickr8k --zero-shot: --no-facts indexes without the fact stages. */
  facts?: boolean;
  /** flickr8k --zero-shot, cifar10-zeroshot: --no-word-vectors reads words with WordNet alone. */
  wordVectors?: boolean;
  senses?: string;
  classNames?: string;
  split?: 'test' | 'dev';
  k?: number;
  /** ocr: distractor photos, confidence threshold, detector enlargement, readings kept in a file. */
  distractors?: number;
  minScore?: number;
  minSide?: number;
  reads?: string;
  /** faces: also sweep the grouping thresholds on the development people. */
  sweep?: boolean;
  /** Re-ranking (docs/reranking.md) instead of the collection's default. */
  rerank?: 'none' | 'qe' | 'dba' | 'diffusion';
  /** cifar10: rank each query's first n results only. */
  ranked?: number;
  /** duplicates: also time grouping on smaller shares of the collection. */
  growth?: boolean;
  /** duplicates: multiples of the collection to group, more distractors added (lab/eval/duplicates-scale.ts). */
  scale?: number[];
}
