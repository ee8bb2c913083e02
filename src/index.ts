/** Visor's public library API. The `visor` CLI is a thin layer over these. */
export { Collection, type CollectionIndexOptions, type CollectionIndexSummary, type CollectionStats, type OpenOptions, type RemoveSummary } from './collection.js';
export { resolvePaths, type VisorPaths } from './config.js';
export { VisorError, isVisorError, type VisorErrorCode } from './errors.js';
export type { IndexOptions, IndexProgress, IndexSummary } from './ingest/indexer.js';
export type { SpaceFillSummary } from './ingest/space-fill.js';
export type { SearchOptions, SearchResult } from './search/results.js';
export type { ImageQueryOptions } from './search/image-search.js';
export { MobileNetV2, type ImageNetClass, type MobileNetOptions } from './models/mobilenet.js';
export type { ImageEmbeddings, ImageEncoder } from './models/types.js';
export { ClipModel, type ClipLoadOptions, type Tower } from './models/clip/clip-model.js';
export { loadImageEncoder, type ImageEncoderOptions } from './models/load-encoder.js';
export { addLocalModel, findAnyModel, listAllModels, type AddedModel, type AddLocalModelOptions } from './models/local-models.js';
export { ClipTokenizer, type TokenBatch } from './text/clip-tokenizer.js';
export { listModels, findModel, type ModelSpec, type ModelFileSpec } from './models/registry.js';
export { resolveModel } from './models/resolve.js';
export { LanceStore, DEFAULT_ANN, type AnnSettings } from './store/lance-store.js';
export type { VectorStore, StoredItem, VectorHit, BatchHits, MetaRecord } from './store/types.js';
export { loadWordNet, type WordNet, type Synset, type Sense, type Ancestor } from './concepts/wordnet.js';
export {
  ConceptSpace,
  loadConceptSpace,
  GENERIC_CONCEPTS,
  IMAGENET_WN31,
  type ConceptCandidate,
  type PhraseMatch,
  type ClassAncestor,
  type ImageNetWordNetEntry,
} from './concepts/concept-space.js';
export { JointModel } from './models/joint-model.js';
export { JointTextSignal } from './search/joint-signal.js';
export { DomainPipeline, type DomainSearchOptions, type DomainSearchResponse, type DomainResult } from './domain/pipeline.js';
export { registerPredictorKind, type PredictorSpec } from './domain/predictors.js';
export { CategoryClassifier, type CategoryPredictor } from './classify/category-classifier.js';
export type { RunningServer, StartOptions } from './server/start.js';
export type { ServerOptions, RateLimitOptions } from './server/options.js';

/** Serves an index over HTTP (the search page and the JSON API); see docs/server.md. Fastify loads only when called. */
export async function startServer(opts?: import('./server/start.js').StartOptions): Promise<import('./server/start.js').RunningServer> {
  return (await import('./server/start.js')).startServer(opts);
}
export type { ComposeSpec } from './compose/search-signal.js';
