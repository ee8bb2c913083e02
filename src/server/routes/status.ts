import type { FastifyInstance } from 'fastify';
import type { ServerContext } from '../context.js';
import { errors, MAX_K } from '../schemas.js';

export function statusRoutes(app: FastifyInstance, ctx: ServerContext): void {
  const { collection, writes, options } = ctx;

  app.get(
    '/api/health',
    {
      schema: {
        tags: ['status'],
        summary: 'Liveness: the server answers',
        response: { 200: { type: 'object', properties: { status: { type: 'string', enum: ['ok'] }, version: { type: 'string' } } }, ...errors(401, 403) },
      },
    },
    async () => ({ status: 'ok', version: ctx.version }),
  );

  app.get(
    '/api/status',
    {
      schema: {
        tags: ['status'],
        summary: 'What the index holds, how it is searched, writes in progress, and the server limits',
        response: {
          200: {
            type: 'object',
            properties: {
              items: { type: 'integer' },
              files: { type: 'integer' },
              duplicatePaths: { type: 'integer' },
              imageModel: { type: 'string' },
              dimension: { type: 'integer' },
              search: { type: 'string', enum: ['exact', 'ann'] },
              annIndex: {
                type: ['object', 'null'],
                properties: { type: { type: 'string' }, indexedRows: { type: 'integer' }, unindexedRows: { type: 'integer' } },
              },
              metaColumns: { type: 'object', additionalProperties: { type: 'string', enum: ['string', 'number'] } },
              bytesOnDisk: { type: 'integer' },
              schemaVersion: { type: 'integer' },
              createdAt: { type: 'string' },
              spaces: {
                type: 'array',
                description: 'further embedding spaces a search may name in "space", with how many items each holds',
                items: { type: 'object', properties: { name: { type: 'string' }, dimension: { type: 'integer' }, items: { type: 'integer' } } },
              },
              trainedComposition: { type: 'boolean', description: 'whether searches may ask for compose.trained (the server has a trained composition model)' },
              writesPending: { type: 'integer', description: 'index changes (adds, removals) queued or running' },
              searchCache: {
                type: 'object',
                description: 'answers to recent JSON searches, kept until the index changes',
                properties: { capacity: { type: 'integer' }, size: { type: 'integer' }, hits: { type: 'integer' }, misses: { type: 'integer' } },
              },
              limits: {
                type: 'object',
                properties: { maxUploadBytes: { type: 'integer' }, maxPixels: { type: 'integer' }, maxK: { type: 'integer' } },
              },
            },
          },
          ...errors(401, 403),
        },
      },
    },
    async () => ({
      ...(await collection.stats()),
      trainedComposition: options.composeModel !== undefined,
      writesPending: writes.size,
      searchCache: { capacity: ctx.searchCache.capacity, size: ctx.searchCache.size, hits: ctx.searchCache.hits, misses: ctx.searchCache.misses },
      limits: { maxUploadBytes: options.maxUploadBytes, maxPixels: options.maxPixels, maxK: MAX_K },
    }),
  );

  app.get('/api/openapi.json', { schema: { hide: true } }, async () => app.swagger());
}
