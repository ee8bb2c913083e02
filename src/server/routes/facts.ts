import type { FastifyInstance } from 'fastify';
import type { ImageFacts } from '../../core/facts.js';
import { VisorError } from '../../errors.js';
import { objectCounts } from '../../facts/summary.js';
import type { ServerContext } from '../context.js';
import { errors, ID_PATTERN, idParams, ref } from '../schemas.js';

/** Items per facts request: a page of results. */
export const MAX_FACTS_IDS = 100;

const idList = ID_PATTERN.slice(1, -1);

/** An item's facts as the API sends them: the stored facts and the objects counted per class. */
function itemFacts(id: string, facts: ImageFacts | undefined) {
  return facts ? { id, facts, ...(facts.objects ? { counts: objectCounts(facts.objects) } : {}) } : { id };
}

export function factsRoutes(app: FastifyInstance, ctx: ServerContext): void {
  const { collection } = ctx;

  app.get(
    '/api/items/:id/facts',
    {
      schema: {
        tags: ['items'],
        summary: 'What the item shows, found when it was indexed: objects and people with their boxes and colours, main colours, text read',
        params: idParams,
        response: { 200: ref('ItemFacts'), ...errors(400, 401, 403, 404) },
      },
    },
    async (request) => {
      const { id } = request.params as { id: string };
      if ((await collection.items([id])).length === 0) throw new VisorError('NOT_FOUND', `no item with id ${id}`);
      return itemFacts(id, (await collection.facts([id])).get(id));
    },
  );

  app.get(
    '/api/facts',
    {
      schema: {
        tags: ['items'],
        summary: `The facts of several items at once (a page of results: up to ${MAX_FACTS_IDS}), in the order asked; unknown ids are left out`,
        querystring: {
          type: 'object',
          required: ['ids'],
          additionalProperties: false,
          properties: {
            ids: { type: 'string', pattern: `^${idList}(,${idList}){0,${MAX_FACTS_IDS - 1}}$`, description: 'item ids, comma-separated' },
          },
        },
        response: {
          200: { type: 'object', required: ['items'], properties: { items: { type: 'array', items: ref('ItemFacts') } } },
          ...errors(400, 401, 403),
        },
      },
    },
    async (request) => {
      const ids = [...new Set((request.query as { ids: string }).ids.split(','))];
      const [items, facts] = await Promise.all([collection.items(ids), collection.facts(ids)]);
      return { items: items.map((it) => itemFacts(it.id, facts.get(it.id))) };
    },
  );
}
