import type { AnnSettings } from './lance/ann.js';
import type { VectorStore } from './port.js';

export type * from './port.js';

export interface OpenStoreOptions {
  /** Dimension of the image features, and the model that made them (checked against an existing index). */
  dimension: number;
  /** Class probabilities per item for a new index (0: the image model has no classifier). */
  numClasses: number;
  imageModel: string;
  /** Create the index if the folder holds none (default true). */
  create?: boolean;
  /** Approximate-index settings (LanceDB's; see lance/ann.ts). */
  ann?: Partial<AnnSettings>;
}

/**
 * Opens (or creates) the index in a folder, as the port: product code opens a store without
 * naming the implementation. Today that is the embedded LanceDB store, loaded on first use.
 */
export async function openStore(dir: string, opts: OpenStoreOptions): Promise<VectorStore> {
  const { LanceStore } = await import('./lance/lance-store.js');
  return LanceStore.open(dir, opts);
}
