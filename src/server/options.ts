import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { VisorError } from '../errors.js';

/** How the HTTP server runs: where it listens, who may use it, and how much a request may ask. */
export interface ServerOptions {
  host: string;
  /** 0 picks a free port (tests). */
  port: number;
  /** Bearer key: always required for writes, and for everything on a non-loopback address. */
  apiKey?: string;
  /** Largest upload request (query images or images to add), in bytes. */
  maxUploadBytes: number;
  /** Images with more pixels are refused before decoding. */
  maxPixels: number;
  /** Largest JSON body, in bytes: queries are small. */
  maxJsonBytes: number;
  /** Origins allowed to call the API from a browser (CORS); empty = no CORS headers at all. */
  corsOrigins: string[];
  rateLimit: RateLimitOptions;
  /** Pino logging of each request (off by default: a local tool should not fill the terminal). */
  logRequests: boolean;
  /** Answers to recent JSON searches kept per index version (0: none); see SearchCache. */
  searchCacheSize: number;
  /** Worker threads answering JSON searches (0: on the main thread); see SearchWorkers. */
  searchWorkers: number;
  /**
   * A trained composition model (a `.compose` file from 'visor train compose --encoder
   * mobilenet-pooled') that requests may ask for with `compose.trained`; clients never name one.
   */
  composeModel?: string;
}

export interface RateLimitOptions {
  /** Requests per client per window on every route; 0 turns rate limiting off. */
  max: number;
  /** Requests per client per window that carry uploads or add and remove images (they cost far more). */
  uploadMax: number;
  windowMs: number;
  /**
   * Clients on the loopback interface are not limited: they are the machine's own user (the
   * browser page, scripts, load tests). Turned off in tests that check the limit itself.
   */
  exemptLoopback: boolean;
}

export const DEFAULT_SERVER_OPTIONS: ServerOptions = {
  host: '127.0.0.1',
  port: 8080,
  maxUploadBytes: 20 * 2 ** 20,
  // A 45-MP camera frame passes; a decompression bomb does not reach the decoder.
  maxPixels: 50_000_000,
  maxJsonBytes: 256 * 1024,
  corsOrigins: [],
  rateLimit: { max: 600, uploadMax: 60, windowMs: 60_000, exemptLoopback: true },
  logRequests: false,
  searchCacheSize: 256,
  searchWorkers: 0,
};

/** Shortest API key accepted: a guessable key is no protection on a network. */
export const MIN_API_KEY_LENGTH = 16;

/** Whether an address or host name only reaches this machine. */
export function isLoopback(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  if (h === 'localhost' || h.endsWith('.localhost')) return true;
  if (net.isIPv4(h)) return h.startsWith('127.');
  if (net.isIPv6(h)) return h === '::1' || /^::ffff:127\./.test(h);
  return false;
}

/**
 * Options with defaults filled in, checked for an unsafe combination: a server reachable from
 * the network must have a key, since without one anyone there could read every image.
 */
export function resolveServerOptions(given: Partial<ServerOptions> = {}): ServerOptions {
  const o: ServerOptions = {
    ...DEFAULT_SERVER_OPTIONS,
    ...given,
    rateLimit: { ...DEFAULT_SERVER_OPTIONS.rateLimit, ...given.rateLimit },
  };
  if (o.apiKey !== undefined && o.apiKey.length < MIN_API_KEY_LENGTH) {
    throw new VisorError('QUERY_INVALID', `the API key must be at least ${MIN_API_KEY_LENGTH} characters (e.g. the output of 'openssl rand -hex 32')`);
  }
  if (!isLoopback(o.host) && !o.apiKey) {
    throw new VisorError(
      'QUERY_INVALID',
      `refusing to listen on ${o.host} without an API key: anyone on the network could read and change the index; ` +
        'set VISOR_API_KEY (or --api-key), or listen on 127.0.0.1',
    );
  }
  for (const [name, v] of Object.entries({
    port: o.port,
    maxUploadBytes: o.maxUploadBytes,
    maxPixels: o.maxPixels,
    maxJsonBytes: o.maxJsonBytes,
    searchCacheSize: o.searchCacheSize,
  })) {
    const zeroOk = name === 'port' || name === 'searchCacheSize';
    if (!Number.isInteger(v) || v < 0 || (!zeroOk && v === 0) || (name === 'port' && v > 65535)) {
      throw new VisorError('QUERY_INVALID', `${name} out of range: ${v}`);
    }
  }
  if (o.composeModel !== undefined) {
    o.composeModel = path.resolve(o.composeModel);
    if (!fs.statSync(o.composeModel, { throwIfNoEntry: false })?.isFile()) throw new VisorError('MODEL_NOT_FOUND', `no composition model at ${o.composeModel}`);
  }
  for (const origin of o.corsOrigins) {
    if (!/^https?:\/\/[^/\s]+$/.test(origin))
      throw new VisorError('QUERY_INVALID', `CORS origin must look like https://host[:port], got ${JSON.stringify(origin)}`);
  }
  return o;
}
