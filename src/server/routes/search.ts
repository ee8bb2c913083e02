import type { FastifyInstance } from 'fastify';
import type { Query } from '../../search/query.js';
import type { ServerContext } from '../context.js';
import { HttpError } from '../errors.js';
import { errors, idParams, ref, similarQuery } from '../schemas.js';
import { SerializedResponse } from '../search-workers.js';
import { readUploads, rejectOversized, type Upload } from '../uploads.js';

/** The JSON search request, as the schema 'SearchRequest' admits it: the engine's query minus images. */
export type SearchRequest = Pick<Query, 'text' | 'like' | 'unlike' | 'where' | 'k' | 'offset' | 'exact' | 'excludeSelf' | 'weights' | 'fusion'>;

/** Query images per request: a composed query rarely needs more, and each one is a model run. */
export const MAX_QUERY_IMAGES = 4;

/**
 * A request and its uploads as the engine's Query. Query images are only ever uploaded bytes:
 * nothing a client sends can make the server read a path of its choosing.
 */
export function toQuery(body: SearchRequest, uploads: Record<string, Upload[]>, maxPixels: number): Query {
  return {
    text: body.text,
    images: (uploads.image ?? []).map((u) => u.bytes),
    notImages: (uploads.notImage ?? []).map((u) => u.bytes),
    like: body.like,
    unlike: body.unlike,
    where: body.where?.trim() || undefined,
    k: body.k,
    offset: body.offset,
    exact: body.exact,
    excludeSelf: body.excludeSelf,
    weights: body.weights,
    fusion: body.fusion,
    maxPixels,
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

  app.post(
    '/api/search',
    {
      schema: {
        tags: ['search'],
        summary: 'Search by words, uploaded images, indexed items, or any mix of them',
        description:
          'JSON: a SearchRequest. With query images: multipart/form-data with file parts "image" (up to 4, ' +
          'composed with the words) and "notImage" (looks to avoid), and the SearchRequest as JSON text in a part "query".',
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
        fileFields: ['image', 'notImage'],
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
      const body = request.body as SearchRequest;
      const query = toQuery(body, uploads, options.maxPixels);
      if (query.images?.length || query.notImages?.length) return collection.search(query);
      const version = await collection.version();
      const workers = ctx.searchWorkers?.failed ? null : ctx.searchWorkers;
      const run = workers ? () => workers.search(query, version) : () => collection.search(query);
      const answer = await ctx.searchCache.get(cacheKey(body), version, run);
      // A worker's answer is JSON already (JSON.stringify of the same object the schema would
      // serialise: the same fields in the same order).
      if (answer instanceof SerializedResponse) return reply.type('application/json; charset=utf-8').send(answer.json);
      return answer;
    },
  );

  app.get(
    '/api/items/:id/similar',
    {
      schema: {
        tags: ['search'],
        summary: 'Images most like an indexed item (itself first, unless excludeSelf)',
        params: idParams,
        querystring: similarQuery,
        response: {
          200: { type: 'object', required: ['results'], properties: { results: { type: 'array', items: ref('Result') } } },
          ...errors(400, 401, 403, 404, 429),
        },
      },
    },
    async (request) => {
      const { id } = request.params as { id: string };
      const q = request.query as { k?: number; offset?: number; where?: string; exact?: boolean; excludeSelf?: boolean };
      return { results: await collection.searchSimilar(id, { ...q, where: q.where?.trim() || undefined }) };
    },
  );
}
