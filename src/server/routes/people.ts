import type { FastifyInstance } from 'fastify';
import sharp from 'sharp';
import { VisorError } from '../../errors.js';
import type { ServerContext } from '../context.js';
import { locateOriginal } from '../originals.js';
import { errors } from '../schemas.js';

const person = {
  type: 'object',
  required: ['id', 'faces', 'images'],
  properties: {
    id: { type: 'string' },
    name: { type: 'string' },
    faces: { type: 'integer' },
    images: { type: 'integer' },
    face: {
      type: ['object', 'null'],
      description: 'the clearest face: its id, image and box (left, top, right, bottom in the image’s pixels)',
      properties: { id: { type: 'string' }, item: { type: 'string' }, box: { type: 'array', items: { type: 'number' } } },
    },
    faceIds: { type: 'array', items: { type: 'string' } },
    items: { type: 'array', items: { type: 'string' } },
  },
} as const;

const personParams = { type: 'object', required: ['id'], properties: { id: { type: 'string', minLength: 1, maxLength: 200 } } } as const;
const faceParams = { type: 'object', required: ['face'], properties: { face: { type: 'string', pattern: '^[0-9a-f]{8,64}:[0-9]{1,4}$' } } } as const;

/** The persons whose faces are in the photos, and the user's decisions about them (names, merges, splits, forgetting). */
export function peopleRoutes(app: FastifyInstance, ctx: ServerContext): void {
  const { collection, writes } = ctx;

  app.get(
    '/api/people',
    {
      schema: {
        tags: ['people'],
        summary: 'The persons found in the photos, most faces first',
        response: { 200: { type: 'object', properties: { people: { type: 'array', items: person } } }, ...errors(401, 403) },
      },
    },
    async () => ({ people: await collection.people() }),
  );

  app.get(
    '/api/people/:id',
    {
      schema: {
        tags: ['people'],
        summary: 'A person (by id or name) with its faces and images',
        params: personParams,
        response: { 200: person, ...errors(400, 401, 403, 404) },
      },
    },
    async (request) => collection.person((request.params as { id: string }).id),
  );

  app.post(
    '/api/people/:id/name',
    {
      schema: {
        tags: ['people'],
        summary: 'Names a person; the name stays through later grouping',
        params: personParams,
        body: { type: 'object', required: ['name'], additionalProperties: false, properties: { name: { type: 'string', minLength: 1, maxLength: 200 } } },
        response: { 200: person, ...errors(400, 401, 403, 404) },
      },
      config: { write: true },
    },
    async (request) => writes.run(() => collection.namePerson((request.params as { id: string }).id, (request.body as { name: string }).name)),
  );

  app.post(
    '/api/people/merge',
    {
      schema: {
        tags: ['people'],
        summary: 'The user says these persons are one',
        body: {
          type: 'object',
          required: ['ids'],
          additionalProperties: false,
          properties: { ids: { type: 'array', minItems: 2, maxItems: 50, items: { type: 'string', minLength: 1, maxLength: 200 } } },
        },
        response: { 200: person, ...errors(400, 401, 403, 404) },
      },
      config: { write: true },
    },
    async (request) => writes.run(() => collection.mergePersons((request.body as { ids: string[] }).ids)),
  );

  app.post(
    '/api/people/:id/split',
    {
      schema: {
        tags: ['people'],
        summary: "The user says these faces are someone else's: a person of their own, kept apart",
        params: personParams,
        body: {
          type: 'object',
          required: ['faces'],
          additionalProperties: false,
          properties: { faces: { type: 'array', minItems: 1, maxItems: 1000, items: { type: 'string' } } },
        },
        response: { 200: person, ...errors(400, 401, 403, 404) },
      },
      config: { write: true },
    },
    async (request) => writes.run(() => collection.splitPerson((request.params as { id: string }).id, (request.body as { faces: string[] }).faces)),
  );

  app.post(
    '/api/faces/:face/remove',
    {
      schema: {
        tags: ['people'],
        summary: 'The user says a face is not its person’s: it leaves it for good',
        params: faceParams,
        response: { 200: { type: 'object', properties: { face: { type: 'string' }, person: { type: ['string', 'null'] } } }, ...errors(400, 401, 403, 404) },
      },
      config: { write: true },
    },
    async (request) => {
      const { face } = request.params as { face: string };
      return { face, person: (await writes.run(() => collection.removeFace(face))) ?? null };
    },
  );

  app.delete(
    '/api/people/:id',
    {
      schema: {
        tags: ['people'],
        summary: 'Forgets a person: its faces and their embeddings are deleted',
        params: personParams,
        response: { 200: { type: 'object', properties: { id: { type: 'string' }, faces: { type: 'integer' } } }, ...errors(400, 401, 403, 404) },
      },
      config: { write: true },
    },
    async (request) => writes.run(() => collection.forgetPerson((request.params as { id: string }).id)),
  );

  app.get(
    '/api/faces/:face/image',
    {
      schema: {
        tags: ['people'],
        summary: 'A face cut from its photo, 96 px square WebP',
        params: faceParams,
        response: { 200: { description: 'image/webp' }, ...errors(400, 401, 403, 404) },
      },
    },
    async (request, reply) => {
      const { face } = request.params as { face: string };
      const [itemId] = face.split(':');
      const [item] = await collection.items([itemId!]);
      const box = await collection.faceBox(face);
      if (!item || !box) throw new VisorError('NOT_FOUND', `no face ${face}`);
      const found = await locateOriginal(item);
      if (!found) throw new VisorError('NOT_FOUND', `the file of item ${item.id} has changed or moved since it was indexed`);
      // A margin around the box: a face cut at the chin and brow reads badly.
      const w = box[2] - box[0];
      const h = box[3] - box[1];
      const side = Math.max(w, h) * 1.3;
      const left = Math.max(0, Math.round((box[0] + box[2]) / 2 - side / 2));
      const top = Math.max(0, Math.round((box[1] + box[3]) / 2 - side / 2));
      const width = Math.max(1, Math.min(item.width - left, Math.round(side)));
      const height = Math.max(1, Math.min(item.height - top, Math.round(side)));
      const body = await sharp(found.path).rotate().extract({ left, top, width, height }).resize(96, 96, { fit: 'cover' }).webp().toBuffer();
      return reply.type('image/webp').header('cache-control', 'private, max-age=3600').send(body);
    },
  );
}
