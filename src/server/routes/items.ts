import fs from 'node:fs/promises';
import path from 'node:path';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { VisorError } from '../../errors.js';
import { IMAGE_EXTENSIONS } from '../../ingest/crawl.js';
import { contentId } from '../../ingest/read-image.js';
import type { StoredItem } from '../../store/types.js';
import type { ServerContext } from '../context.js';
import { locateOriginal, mimeOf } from '../originals.js';
import { errors, idParams, ref } from '../schemas.js';
import { THUMB_SIZE } from '../thumbnails.js';
import { readUploads, rejectOversized } from '../uploads.js';

/** Images per add request: each is embedded before the reply, so a request stays short. */
export const MAX_ADD_IMAGES = 16;

const binary = (description: string) => ({ description, content: { 'image/*': { schema: { type: 'string', format: 'binary' } } } });

/** True when the client already holds this exact representation (If-None-Match). */
function fresh(request: FastifyRequest, etag: string): boolean {
  const inm = request.headers['if-none-match'];
  if (!inm) return false;
  return inm === '*' || inm.split(',').some((t) => t.trim().replace(/^W\//, '') === etag);
}

/**
 * A file name for an upload that keeps the client's words (keyword search reads file names)
 * but nothing else: no folders, no dots in front, no catalogue extension, plain characters.
 */
export function uploadName(filename: string | undefined): string {
  const base = path.basename((filename ?? '').replace(/\\/g, '/'));
  const ext = path.extname(base).toLowerCase();
  const stem = base
    .slice(0, base.length - ext.length)
    .replace(/[^\p{L}\p{N}_-]+/gu, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 80);
  return `${stem || 'image'}${IMAGE_EXTENSIONS.has(ext) ? ext : '.img'}`;
}

export function itemRoutes(app: FastifyInstance, ctx: ServerContext): void {
  const { collection, options, thumbnails, writes } = ctx;
  // Ids are content hashes, so what is served under one never changes: cache it for good.
  // Behind a key, shared caches (proxies) must not keep it.
  const cacheControl = `${ctx.keyForReads ? 'private' : 'public'}, max-age=31536000, immutable`;

  const itemOr404 = async (id: string): Promise<StoredItem> => {
    const [item] = await collection.items([id]);
    if (!item) throw new VisorError('NOT_FOUND', `no item with id ${id}`);
    return item;
  };
  const sendCached = (request: FastifyRequest, reply: FastifyReply, etag: string, type: string, body: Buffer | NodeJS.ReadableStream) => {
    reply.header('etag', etag).header('cache-control', cacheControl);
    if (fresh(request, etag)) return reply.code(304).send();
    return reply.type(type).send(body);
  };

  app.get(
    '/api/items/:id',
    {
      schema: {
        tags: ['items'],
        summary: 'An indexed item: paths, size, format, catalogue fields',
        params: idParams,
        response: { 200: ref('Item'), ...errors(400, 401, 403, 404) },
      },
    },
    async (request) => itemOr404((request.params as { id: string }).id),
  );

  app.get(
    '/api/items/:id/thumbnail',
    {
      schema: {
        tags: ['items'],
        summary: `The item as a WebP at most ${THUMB_SIZE} px on its longer side, made on first request and cached in the index folder`,
        params: idParams,
        response: { 200: binary('image/webp'), 304: { type: 'null', description: 'unchanged (ETag)' }, ...errors(400, 401, 403, 404) },
      },
    },
    async (request, reply) => {
      const { id } = request.params as { id: string };
      const etag = `"${id}-t${THUMB_SIZE}"`;
      if (fresh(request, etag)) return reply.header('etag', etag).header('cache-control', cacheControl).code(304).send();
      const file = await thumbnails.get(id, async () => {
        const item = await itemOr404(id);
        const found = await locateOriginal(item);
        return found && { path: found.path, pixels: item.width * item.height };
      });
      return sendCached(request, reply, etag, 'image/webp', await fs.readFile(file));
    },
  );

  app.get(
    '/api/items/:id/original',
    {
      schema: {
        tags: ['items'],
        summary: 'The indexed file itself, by id (never by path), while its content is the one indexed',
        params: idParams,
        response: { 200: binary('the original bytes'), 304: { type: 'null', description: 'unchanged (ETag)' }, ...errors(400, 401, 403, 404) },
      },
    },
    async (request, reply) => {
      const { id } = request.params as { id: string };
      const item = await itemOr404(id);
      const found = await locateOriginal(item);
      if (!found) throw new VisorError('NOT_FOUND', `the file of item ${id} has changed or moved since it was indexed; index it again`);
      // An SVG opened from here must not run scripts with this origin's rights.
      reply.header('content-security-policy', "default-src 'none'; style-src 'unsafe-inline'; sandbox");
      reply.header('content-disposition', `inline; filename="${path.basename(found.path).replace(/[^\w.-]+/g, '_')}"`);
      return sendCached(request, reply, `"${id}"`, mimeOf(item.format), (await import('node:fs')).createReadStream(found.path));
    },
  );

  app.post(
    '/api/items',
    {
      schema: {
        tags: ['items'],
        summary: `Add images (multipart/form-data, file parts "image", up to ${MAX_ADD_IMAGES}); they are kept in the index folder`,
        security: [{ bearer: [] }],
        consumes: ['multipart/form-data'],
        response: {
          201: {
            type: 'object',
            properties: {
              items: {
                type: 'array',
                items: {
                  type: 'object',
                  properties: {
                    id: { type: 'string' },
                    name: { type: 'string' },
                    status: { type: 'string', enum: ['added', 'known', 'refused'], description: 'known: the same content was already indexed' },
                    reason: { type: 'string', description: 'why a refused file is not an image the index can hold' },
                  },
                },
              },
              totalItems: { type: 'integer' },
            },
          },
          ...errors(400, 401, 403, 409, 413, 415, 429),
        },
      },
      config: { write: true, rateLimit: { max: options.rateLimit.uploadMax } },
      onRequest: rejectOversized(options.maxUploadBytes),
      preValidation: readUploads({ fileFields: ['image'], required: true, maxBytes: options.maxUploadBytes, maxFiles: MAX_ADD_IMAGES }),
    },
    async (request, reply) => {
      const saved = await Promise.all(
        (request.uploads?.image ?? []).map(async ({ bytes, filename }) => {
          const id = contentId(bytes);
          const dir = path.join(ctx.uploadsDir, id);
          const file = path.join(dir, uploadName(filename));
          await fs.mkdir(dir, { recursive: true });
          const created = await fs.writeFile(file, bytes, { flag: 'wx' }).then(
            () => true,
            (e: NodeJS.ErrnoException) => {
              if (e.code === 'EEXIST') return false; // the same bytes under the same name: already here
              throw e;
            },
          );
          return { id, file, name: path.basename(file), created };
        }),
      );
      const known = new Set((await collection.items(saved.map((s) => s.id))).map((i) => i.id));
      // Files written for this request that the index does not hold are not kept: refused ones,
      // or all of them when indexing failed. Files from earlier requests stay.
      const discard = (which: typeof saved) =>
        Promise.all(
          which
            .filter((s) => s.created)
            .map(async (s) => {
              await fs.rm(s.file, { force: true });
              await fs.rmdir(path.dirname(s.file)).catch(() => undefined); // only if now empty
            }),
        );
      let summary: Awaited<ReturnType<typeof collection.index>>;
      try {
        summary = await writes.run(() =>
          collection.index(
            saved.map((s) => s.file),
            { maxPixels: options.maxPixels, workers: 1 },
          ),
        );
      } catch (e) {
        await discard(saved);
        throw e;
      }
      const stored = new Set((await collection.items(saved.map((s) => s.id))).map((i) => i.id));
      const refused = saved.filter((s) => !stored.has(s.id));
      await discard(refused);
      const reason = (s: (typeof saved)[number]) => summary.skipped.find((p) => p.path === s.file)?.reason ?? 'not indexed';
      if (refused.length === saved.length) {
        throw new VisorError('IMAGE_INVALID', `nothing added: ${refused.map((s) => `${s.name}: ${reason(s)}`).join('; ')}`);
      }
      return reply.code(201).send({
        items: saved.map((s) =>
          stored.has(s.id)
            ? { id: s.id, name: s.name, status: known.has(s.id) ? 'known' : 'added' }
            : { id: s.id, name: s.name, status: 'refused', reason: reason(s) },
        ),
        totalItems: summary.totalItems,
      });
    },
  );

  app.delete(
    '/api/items/:id',
    {
      schema: {
        tags: ['items'],
        summary: 'Remove an item from the index (every path holding that content); files the server was sent are deleted too',
        security: [{ bearer: [] }],
        params: idParams,
        response: {
          200: { type: 'object', properties: { id: { type: 'string' }, removedPaths: { type: 'integer' } } },
          ...errors(400, 401, 403, 404, 409, 429),
        },
      },
      config: { write: true, rateLimit: { max: options.rateLimit.uploadMax } },
    },
    async (request) => {
      const { id } = request.params as { id: string };
      const r = await writes.run(() => collection.removeItems([id]));
      if (r.notFound.length) throw new VisorError('NOT_FOUND', `no item with id ${id}`);
      await Promise.all([thumbnails.forget(id), fs.rm(path.join(ctx.uploadsDir, id), { recursive: true, force: true })]);
      return { id, removedPaths: r.removedPaths };
    },
  );
}
