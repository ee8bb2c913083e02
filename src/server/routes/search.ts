import type { FastifyInstance, FastifyReply } from 'fastify';
import type { SearchResponse } from '../../search/pipeline.js';
import type { Query } from '../../search/query.js';
import type { ServerContext } from '../context.js';
import { HttpError } from '../errors.js';
import { errors, idParams, ref, similarQuery } from '../schemas.js';
import { SerializedResponse } from '../search-workers.js';
import { readUploads, rejectOversized, type Upload } from '../uploads.js';

/**
 * The JSON search request, as the schema 'SearchRequest' admits it: the engine's query, except
 * that query images are uploads or indexed items (`imageIds`), never paths, and a composed
 * query names no model file (`compose.trained` asks for the one the server was started with).
 */
export type SearchRequest = Pick<
  Query,
  'text' | 'like' | 'unlike' | 'where' | 'colour' | 'persons' | 'k' | 'offset' | 'exact' | 'excludeSelf' | 'weights' | 'fusion' | 'space'
> & {
  imageIds?: string[];
  compose?: { text: string; weight?: number; trained?: boolean };
  stages?: { narrow?: boolean; localize?: boolean; rerank?: boolean };
  /** Re-ranking with the neighbour graph instead of the collection's default. */
  rerank?: 'none' | 'qe' | 'dba' | 'diffusion';
};

/** Query images per request (uploads and imageIds together): a composed query rarely needs more, and each upload is a model run. */
export const MAX_QUERY_IMAGES = 4;

/** What of the server's configuration a request may use. */
export interface QuerySettings {
  maxPixels: number;
  /** The trained composition model `compose.trained` uses (ServerOptions.composeModel). */
  composeModel?: string;
}

/**
 * A request and its uploads as the engine's Query. Query images are only ever uploaded bytes or
 * indexed items, and the only model file a query can name is the server's own: nothing a client
 * sends can make the server read a path of its choosing.
 */
export function toQuery(body: SearchRequest, uploads: Record<string, Upload[]>, settings: QuerySettings): Query {
  const images = [...(uploads.image ?? []).map((u) => u.bytes), ...(body.imageIds ?? []).map((id) => ({ id }))];
  if (images.length > MAX_QUERY_IMAGES)
    throw new HttpError(400, 'QUERY_INVALID', `at most ${MAX_QUERY_IMAGES} query images ("image" uploads and imageIds together)`);
  let compose: Query['compose'];
  if (body.compose) {
    const { text, weight, trained } = body.compose;
    if (trained) {
      if (!settings.composeModel)
        throw new HttpError(
          400,
          'QUERY_INVALID',
          'this server has no trained composition model (visor serve --compose-model <file>): leave out compose.trained for zero-shot composition',
        );
      if (weight !== undefined) throw new HttpError(400, 'QUERY_INVALID', 'compose.weight is for zero-shot composition: a trained model weighs the words itself');
    }
    compose = { text, weight, ...(trained ? { model: settings.composeModel } : {}) };
  }
  const stages = body.stages && Object.values(body.stages).some(Boolean) ? body.stages : undefined;
  return {
    text: body.text,
    images,
    notImages: (uploads.notImage ?? []).map((u) => u.bytes),
    like: body.like,
    unlike: body.unlike,
    compose,
    where: body.where?.trim() || undefined,
    colour: body.colour?.trim() || undefined,
    ...(body.persons?.length ? { persons: body.persons } : {}),
    ...(uploads.face?.length ? { face: uploads.face[0]!.bytes } : {}),
    k: body.k,
    offset: body.offset,
    exact: body.exact,
    excludeSelf: body.excludeSelf,
    weights: body.weights,
    fusion: body.fusion,
    space: body.space,
    stages: body.rerank ? { ...stages, neighbours: body.rerank === 'none' ? false : { method: body.rerank } } : stages,
    maxPixels: settings.maxPixels,
  };
}

/** The same request however its fields were ordered (the schema has already applied defaults). */
export function cacheKey(body: SearchRequest): string {
  const sorted = (o: object): unknown =>
    Object.fromEntries(
      Object.entries(o)
        .filter(([, v]) => v !== undefined)
        .sort(([a], [b]) => (a < b ? -1 : 1))
        .map(([k, v]) => [k, v && typeof v === 'object' && !Array.isArray(v) ? sorted(v) : v]),
    );
  return JSON.stringify(sorted(body));
}

export function searchRoutes(app: FastifyInstance, ctx: ServerContext): void {
  const { collection, options } = ctx;
  const isUpload = (contentType: string | undefined) => /^multipart\//i.test(contentType ?? '');

  /**
   * Every search the server answers: the request as a Query through Collection.search — on a
   * search worker and through the answer cache when it has no uploads (the cache key is the
   * whole request), on this thread otherwise.
   */
  async function answer(body: SearchRequest, uploads: Record<string, Upload[]>): Promise<SearchResponse | SerializedResponse> {
    const query = toQuery(body, uploads, { maxPixels: options.maxPixels, composeModel: options.composeModel });
    if (uploads.image?.length || uploads.notImage?.length || uploads.face?.length) return collection.search(query);
    const version = await collection.version();
    const workers = ctx.searchWorkers?.failed ? null : ctx.searchWorkers;
    const run = workers ? () => workers.search(query, version) : () => collection.search(query);
    return ctx.searchCache.get(cacheKey(body), version, run);
  }

  /** A worker's answer is JSON already (JSON.stringify of the same object the schema would serialise: the same fields in the same order). */
  const send = (reply: FastifyReply, a: SearchResponse | SerializedResponse) =>
    a instanceof SerializedResponse ? reply.type('application/json; charset=utf-8').send(a.json) : a;

  app.post(
    '/api/search',
    {
      schema: {
        tags: ['search'],
        summary: 'Search by words, uploaded images, indexed items, or any mix of them',
        description:
          'JSON: a SearchRequest. With query images: multipart/form-data with file parts "image" (up to 4 with imageIds, ' +
          'fused with the words, or changed by compose), "notImage" (looks to avoid) and "face" (photos of the person in it), and the SearchRequest as JSON text in a part "query". ' +
          'space and stages read uploaded query images; imageIds, like and unlike name indexed items.',
        consumes: ['application/json', 'multipart/form-data'],
        body: ref('SearchRequest'),
        response: { 200: ref('SearchResponse'), ...errors(400, 401, 403, 404, 413, 415, 429) },
      },
      config: {
        rateLimit: { max: (req) => (isUpload(req.headers['content-type']) ? options.rateLimit.uploadMax : options.rateLimit.max) },
      },
      onRequest: async (request) => {
        if (isUpload(request.headers['content-type'])) await rejectOversized(options.maxUploadBytes)(request);
      },
      preValidation: readUploads({
        fileFields: ['image', 'notImage', 'face'],
        jsonField: 'query',
        required: false,
        maxBytes: options.maxUploadBytes,
        maxFiles: MAX_QUERY_IMAGES * 2,
      }),
    },
    async (request, reply) => {
      const uploads = request.uploads ?? {};
      for (const field of ['image', 'notImage']) {
        if ((uploads[field]?.length ?? 0) > MAX_QUERY_IMAGES) throw new HttpError(400, 'QUERY_INVALID', `at most ${MAX_QUERY_IMAGES} files in "${field}"`);
      }
      return send(reply, await answer(request.body as SearchRequest, uploads));
    },
  );

  app.get(
    '/api/items/:id/similar',
    {
      schema: {
        tags: ['search'],
        summary: 'Images most like an indexed item (itself first, unless excludeSelf)',
        description: 'The same search as POST /api/search with {"imageIds": [id]} and these fields, and the same answer.',
        params: idParams,
        querystring: similarQuery,
        response: { 200: ref('SearchResponse'), ...errors(400, 401, 403, 404, 429) },
      },
    },
    async (request, reply) => {
      const { id } = request.params as { id: string };
      const q = request.query as Pick<SearchRequest, 'k' | 'offset' | 'where' | 'exact' | 'excludeSelf'>;
      return send(reply, await answer({ ...q, imageIds: [id] }, {}));
    },
  );
}
