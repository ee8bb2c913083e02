/** Messages between the indexer and its embedding workers. */
export interface WorkerConfig {
  threads: number;
  batchSize: number;
  decodeConcurrency: number;
  maxPixels: number;
  /** Model options that survive structured cloning: id (which model), paths, download flag. */
  model: Record<string, unknown>;
}

export type ToWorker = { type: 'image'; id: string; bytes: Uint8Array } | { type: 'flush' } | { type: 'close' };

export type FromWorker =
  | { type: 'ready'; featureDim: number; numClasses: number; inputSize: number; modelId: string }
  | { type: 'error'; message: string; code?: string }
  | { type: 'embedded'; items: Array<{ id: string; width: number; height: number; format: string }>; features: Float32Array; probs: Float32Array }
  | { type: 'failed'; id: string; reason: string }
  | { type: 'flushed' };
