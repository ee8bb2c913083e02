import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { HttpError } from './errors.js';
import { isLoopback } from './options.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The route changes the index: it always needs the API key. */
    write?: boolean;
    /** The route serves the page's own files (code, no data): open to all, so a browser can load it. */
    public?: boolean;
  }
}

export interface AuthPolicy {
  apiKey?: string;
  /** Reads need the key too (a server reachable from the network). */
  keyForReads: boolean;
}

// Digests compare in constant time whatever the lengths, so timing says nothing about the key.
const digest = (s: string) => createHash('sha256').update(s).digest();

/**
 * The onRequest check: writes need the key always (and so cannot be forged by another web page,
 * which cannot set an Authorization header); reads need it when the server is on the network.
 * Without a key the server only answers requests addressed to a loopback name, so a web page
 * that points its own domain at 127.0.0.1 (DNS rebinding) cannot read the collection.
 */
export function authorize(policy: AuthPolicy, request: FastifyRequest): void {
  const config = request.routeOptions.config;
  if (!policy.keyForReads) {
    const host = (request.headers.host ?? '').replace(/:\d+$/, '');
    if (!isLoopback(host)) throw new HttpError(403, 'FORBIDDEN', `requests must be addressed to localhost or 127.0.0.1 (got Host ${JSON.stringify(host)})`);
  }
  if (!config.write && (config.public || !policy.keyForReads)) return;
  if (!policy.apiKey) {
    throw new HttpError(403, 'FORBIDDEN', 'changing the index needs an API key: start the server with VISOR_API_KEY (or --api-key)');
  }
  const m = /^Bearer\s+(\S+)\s*$/i.exec(request.headers.authorization ?? '');
  if (!m) {
    throw new HttpError(401, 'UNAUTHORIZED', 'this request needs the API key: send the header "Authorization: Bearer <key>"', {
      'www-authenticate': 'Bearer realm="visor"',
    });
  }
  if (!timingSafeEqual(digest(m[1]!), digest(policy.apiKey))) throw new HttpError(403, 'FORBIDDEN', 'wrong API key');
}
