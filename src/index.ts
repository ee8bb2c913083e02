/** Visor's public library API. The `visor` CLI is a thin layer over these. */
export { Collection, type ImageQueryOptions, type ModelCapabilities, type CollectionIndexOptions, type CollectionIndexSummary, type CollectionStats, type OpenOptions, type RemoveSummary } from './collection.js';
export { resolvePaths, type VisorPaths } from './config.js';
export { VisorError, isVisorError, type VisorErrorCode } from './errors.js';
export type { IndexOptions, IndexProgress, IndexSummary } from './ingest/indexer.js';
export type { SpaceFillSummary } from './ingest/space-fill.js';
export type { SearchOptions, SearchResult } from './search/results.js';

export { MobileNetV2, type ImageNetClass, type MobileNetOptions } from './models/mobilenet.js';
export type { ImageEmbeddings, ImageEncoder } from './models/types.js';
export { ClipModel, type ClipLoadOptions, type Tower } from './models/clip/clip-model.js';
export { loadImageEncoder, type ImageEncoderOptions } from './models/load-encoder.js';
export { addLocalModel, findAnyModel, listAllModels, type AddedModel, type AddLocalModelOptions } from './models/local-models.js';
export { ClipTokenizer, type TokenBatch } from './text/clip-tokenizer.js';
export { listModels, findModel, type ModelSpec, type ModelFileSpec } from './models/registry.js';
export { resolveModel } from './models/resolve.js';
export { LanceStore, DEFAULT_ANN, type AnnSettings } from './store/lance-store.js';
export { openStore, type OpenStoreOptions } from './store/index.js';
export type { VectorStore, StoredItem, VectorHit, BatchHits, MetaRecord } from './store/port.js';
export * as metrics from './eval/metrics.js';
export { evalCifar10, type Cifar10Report } from './eval/cifar10.js';
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
// Training and captioning decode images (sharp): imported from their modules when needed, not here.
export type { JointTrainingJob, JointTrainingSummary } from './train/joint/run.js';
export type { JointTrainConfig } from './train/joint/trainer.js';
export { evalFlickr8k, type Flickr8kReport } from './eval/flickr8k.js';
export { DomainPipeline, type DomainSearchOptions, type DomainSearchResponse, type DomainResult } from './domain/pipeline.js';
export { registerPredictorKind, type PredictorSpec } from './domain/predictors.js';
export { CategoryClassifier, crossValidate, trainCategoryClassifier, type CategoryPredictor } from './classify/category-classifier.js';
export { evalCifar10Classify, type Cifar10ClassifyReport } from './eval/cifar10-classify.js';
export { evalObjects, type ObjectsEvalReport } from './eval/objects.js';
export type { RunningServer, StartOptions } from './server/start.js';
export type { ServerOptions, RateLimitOptions } from './server/options.js';

/** Serves an index over HTTP (the search page and the JSON API); see docs/server.md. Fastify loads only when called. */
export async function startServer(opts?: import('./server/start.js').StartOptions): Promise<import('./server/start.js').RunningServer> {
  return (await import('./server/start.js')).startServer(opts);
}
export type { ComposeSpec } from './search/compose-spec.js';
export type { Query, ImageRef, WeightedImage, SignalWeights } from './search/query.js';
export type { SearchResponse, RankedResult } from './search/pipeline.js';
export type { MatchReason, SignalReport, Signal, Stage } from './search/signal.js';
/** Image+text composition (training, models, the CSS benchmark); loads TensorFlow.js, so on demand. */
export const loadCompose = () => import('./compose/public.js');
