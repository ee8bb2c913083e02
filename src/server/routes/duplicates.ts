import type { FastifyInstance } from 'fastify';
import type { ServerContext } from '../context.js';
import { errors, idParams } from '../schemas.js';

const duplicateItem = {
  type: 'object',
  required: ['id', 'path', 'width', 'height', 'bytes'],
  properties: {
    id: { type: 'string' },
    path: { type: 'string' },
    paths: { type: 'array', items: { type: 'string' } },
    width: { type: 'integer' },
    height: { type: 'integer' },
    bytes: { type: 'integer' },
    modified: { type: 'number' },
  },
};

export function duplicatesRoutes(app: FastifyInstance, ctx: ServerContext): void {
  const { collection } = ctx;

  app.get(
    '/api/items/:id/duplicates',
    {
      schema: {
        tags: ['items'],
        summary: "The item's near-duplicates (edited copies of the same picture: resized, re-encoded, cropped, recoloured, captioned…), surest first",
        params: idParams,
        response: {
          200: {
            type: 'object',
            required: ['id', 'duplicates'],
            properties: {
              id: { type: 'string' },
              duplicates: {
                type: 'array',
                items: {
                  type: 'object',
                  required: ['item', 'confidence'],
                  properties: { item: duplicateItem, confidence: { type: 'number' }, mirrored: { type: 'boolean' }, similarity: { type: 'number' } },
                },
              },
            },
          },
          ...errors(400, 401, 403, 404),
        },
      },
    },
    async (request) => {
      const { id } = request.params as { id: string };
      return { id, duplicates: await collection.duplicatesOf(id) };
    },
  );
}
