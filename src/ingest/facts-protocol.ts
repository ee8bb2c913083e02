import type { VisorPaths } from '../config.js';
import type { FactStage, ImageFacts } from '../core/facts.js';

/** Messages between the facts pass and its workers. */
export interface FactsWorkerConfig {
  /** The readers each worker loads (every stage any job may ask for). */
  stages: FactStage[];
  threads: number;
  /** Images decoded ahead of the one being read, so decoding overlaps the models. */
  decodeAhead: number;
  maxPixels: number;
  paths?: VisorPaths;
}

export type ToFactsWorker = { type: 'image'; id: string; bytes: Uint8Array; stages: FactStage[]; existing?: ImageFacts } | { type: 'close' };

export type FromFactsWorker =
  | { type: 'ready'; readers: Partial<Record<FactStage, string>> }
  | { type: 'error'; message: string; code?: string }
  | { type: 'facts'; id: string; facts: ImageFacts }
  | { type: 'failed'; id: string; reason: string };
