import type { FastifyReply, FastifyRequest } from 'fastify';

/**
 * The page loads only its own files and talks only to this server; nothing may frame it.
 * Thumbnails the page makes from a key-protected server come in as blob: URLs.
 */
const PAGE_CSP = [
  "default-src 'self'",
  "img-src 'self' blob: data:",
  "style-src 'self'",
  "script-src 'self'",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

/** An onSend hook: headers every response carries, unless a route chose its own. */
export async function securityHeaders(request: FastifyRequest, reply: FastifyReply): Promise<void> {
  reply.header('x-content-type-options', 'nosniff');
  reply.header('referrer-policy', 'no-referrer');
  reply.header('x-frame-options', 'DENY');
  if (!reply.hasHeader('content-security-policy')) reply.header('content-security-policy', PAGE_CSP);
  // Search results and index status change with every write: never served from a cache.
  if (request.url.startsWith('/api/') && !reply.hasHeader('cache-control')) reply.header('cache-control', 'no-store');
}
