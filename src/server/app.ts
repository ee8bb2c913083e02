import path from 'node:path';
import multipart from '@fastify/multipart';
import rateLimit from '@fastify/rate-limit';
import fastifyStatic from '@fastify/static';
import swagger from '@fastify/swagger';
import Fastify, { type FastifyInstance } from 'fastify';
import type { Collection } from '../collection.js';
import { VERSION as version } from '../version.js';
import { authorize } from './auth.js';
import type { ServerContext } from './context.js';
import { cors } from './cors.js';
import { clientErrorHandler, errorBody, HttpError, sendError } from './errors.js';
import { isLoopback, type ServerOptions } from './options.js';
import { factsRoutes } from './routes/facts.js';
import { peopleRoutes } from './routes/people.js';
import { duplicatesRoutes } from './routes/duplicates.js';
import { itemRoutes } from './routes/items.js';
import { searchRoutes } from './routes/search.js';
import { statusRoutes } from './routes/status.js';
import { schemas } from './schemas.js';
import { SearchCache } from './search-cache.js';
import { securityHeaders } from './security-headers.js';
import { Thumbnails } from './thumbnails.js';
import { WriteQueue } from './write-queue.js';

/** The page: plain files beside this module (copied next to the compiled one by the build). */
export const WEB_DIR = path.join(import.meta.dirname, 'web');

/**
 * The HTTP interface over a Collection: validation, auth, limits and serialisation here; all
 * searching and indexing in the Collection. Returns the app ready to listen (or to inject into).
 */
export async function buildApp(collection: Collection, options: ServerOptions): Promise<FastifyInstance> {
  const app: FastifyInstance = Fastify({
    logger: { level: options.logRequests ? 'info' : 'error' },
    bodyLimit: options.maxJsonBytes,
    // Slow clients cannot hold connections open forever (slowloris); an upload has a minute.
    requestTimeout: 60_000,
    // Unknown fields are refused (400), not silently dropped: a misspelt option should be noticed.
    ajv: { customOptions: { removeAdditional: false } },
    return503OnClosing: true,
    // Errors before routing and from the HTTP parser get the same JSON shape as all others.
    // (Such a reply has no route, so its onSend hooks do not run: the headers are set here.)
    frameworkErrors: (e, request, reply) => {
      void securityHeaders(request, reply);
      void sendError(app, e, reply);
    },
    clientErrorHandler,
    // Node would answer a request without a Host header with a bare 400; the hook below answers it in JSON.
    http: { requireHostHeader: false },
  });
  const keyForReads = !isLoopback(options.host);
  const ctx: ServerContext = {
    collection,
    options,
    thumbnails: new Thumbnails(collection.localDir('thumbs'), options.maxPixels),
    searchCache: new SearchCache(options.searchCacheSize),
    searchWorkers: options.searchWorkers > 0 ? await (await import('./search-workers.js')).SearchWorkers.start(collection.db, options.searchWorkers) : null,
    writes: new WriteQueue(),
    uploadsDir: collection.localDir('uploads'),
    version,
    keyForReads,
  };

  app.addHook('onClose', async () => ctx.searchWorkers?.close());

  // The API speaks JSON and multipart only: plain text is refused (415) rather than parsed.
  app.removeContentTypeParser('text/plain');
  app.setErrorHandler((e, _request, reply) => sendError(app, e, reply));
  app.setNotFoundHandler((request, reply) => reply.code(404).send(errorBody('NOT_FOUND', `no route ${request.method} ${request.url.split('?')[0]}`)));
  for (const s of schemas) app.addSchema(s);

  await app.register(swagger, {
    openapi: {
      info: { title: 'Visor', version, description: 'Multi-modal image search: by words, by image, or both.' },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
      security: keyForReads ? [{ bearer: [] }] : [],
    },
    refResolver: { buildLocalReference: (json, _base, _fragment, i) => String(json.$id ?? `def-${i}`) },
  });

  if (options.rateLimit.max > 0) {
    await app.register(rateLimit, {
      global: true,
      max: options.rateLimit.max,
      timeWindow: options.rateLimit.windowMs,
      allowList: (request) => options.rateLimit.exemptLoopback && isLoopback(request.ip),
      errorResponseBuilder: (_request, c) => ({
        statusCode: 429,
        message: `too many requests: at most ${c.max} per ${Math.round(options.rateLimit.windowMs / 1000)} s from one client; retry in ${c.after}`,
      }),
    });
  }
  // After the rate limit, so that guessing keys is rate limited too.
  app.addHook('onRequest', async (request) => {
    if (!request.headers.host) throw new HttpError(400, 'BAD_REQUEST', 'the request has no Host header');
    authorize({ apiKey: options.apiKey, keyForReads }, request);
  });
  app.addHook('onSend', securityHeaders);
  cors(app, options.corsOrigins);
  app.decorateRequest('uploads', null);
  await app.register(multipart, { limits: { fileSize: options.maxUploadBytes } });

  searchRoutes(app, ctx);
  itemRoutes(app, ctx);
  factsRoutes(app, ctx);
  peopleRoutes(app, ctx);
  duplicatesRoutes(app, ctx);
  statusRoutes(app, ctx);
  await app.register(async (web) => {
    // The page's own code holds no data: a browser must be able to load it before it has a key.
    web.addHook('onRoute', (route) => {
      route.config = { ...(route.config as object), public: true };
    });
    await web.register(fastifyStatic, { root: WEB_DIR, prefix: '/', wildcard: false, cacheControl: true, maxAge: 0 });
  });
  return app;
}
