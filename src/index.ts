/**
 * Visor's public library API: the Collection, its errors, the model registry and the HTTP
 * server. The `visor` CLI is a thin layer over these. Evaluation and training are the lab's
 * (lab/, not part of this API).
 */
export {
  Collection,
  type CollectionIndexOptions,
  type CollectionIndexSummary,
  type CollectionStats,
  type ImageQueryOptions,
  type ModelCapabilities,
  type OpenOptions,
  type RemoveSummary,
} from './collection.js';
export { VisorError, isVisorError, type VisorErrorCode } from './errors.js';
export type { IndexOptions, IndexProgress, IndexSummary } from './ingest/indexer.js';
export type { SpaceFillSummary } from './ingest/space-fill.js';
export type { Query, ImageRef, WeightedImage, SignalWeights } from './search/query.js';
export type { ComposeSpec } from './search/compose-spec.js';
export type { SearchResponse, RankedResult } from './search/pipeline.js';
export type { MatchReason, SignalReport } from './search/signal.js';
export type { SearchOptions, SearchResult } from './search/results.js';
export type { Tag, TagOptions } from './concepts/tags.js';
export { addLocalModel, findAnyModel, listAllModels, type AddedModel, type AddLocalModelOptions } from './models/local-models.js';
export { listModels, findModel, type ModelSpec, type ModelFileSpec } from './models/registry.js';
export { resolveModel } from './models/resolve.js';
export type { RunningServer, StartOptions } from './server/start.js';
export type { ServerOptions, RateLimitOptions } from './server/options.js';

/** Serves an index over HTTP (the search page and the JSON API); see docs/server.md. Fastify loads only when called. */
export async function startServer(opts?: import('./server/start.js').StartOptions): Promise<import('./server/start.js').RunningServer> {
  return (await import('./server/start.js')).startServer(opts);
}
