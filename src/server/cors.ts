import type { FastifyInstance } from 'fastify';

/**
 * Cross-origin access for the listed origins only (none by default: then browsers keep other
 * sites' pages from reading anything here). Preflights are answered for any /api route.
 */
export function cors(app: FastifyInstance, origins: readonly string[]): void {
  if (origins.length === 0) return;
  const allowed = new Set(origins);
  app.addHook('onRequest', async (request, reply) => {
    const origin = request.headers.origin;
    reply.header('vary', 'Origin');
    if (origin && allowed.has(origin)) {
      reply.header('access-control-allow-origin', origin);
      reply.header('access-control-expose-headers', 'etag, retry-after, x-ratelimit-limit, x-ratelimit-remaining');
    }
  });
  app.options('/api/*', { schema: { hide: true }, config: { public: true } }, async (request, reply) => {
    const origin = request.headers.origin;
    if (!origin || !allowed.has(origin)) return reply.code(403).send({ error: { code: 'FORBIDDEN', message: `origin ${origin ?? '(none)'} is not allowed` } });
    return reply
      .code(204)
      .header('access-control-allow-methods', 'GET, POST, DELETE')
      .header('access-control-allow-headers', 'authorization, content-type')
      .header('access-control-max-age', '600')
      .send();
  });
}
