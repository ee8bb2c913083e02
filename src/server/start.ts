import type { FastifyInstance } from 'fastify';
import { Collection } from '../collection.js';
import { VisorError } from '../errors.js';
import { buildApp } from './app.js';
import { resolveServerOptions, type ServerOptions } from './options.js';
import { startUpkeep } from './upkeep.js';

export interface RunningServer {
  app: FastifyInstance;
  collection: Collection;
  /** Where it listens, e.g. http://127.0.0.1:8080 */
  url: string;
  close(): Promise<void>;
}

export interface StartOptions extends Partial<ServerOptions> {
  /** Index folder (default: VISOR_DB, else the per-user default). */
  db?: string;
  /** Create an empty index when the folder holds none (images are then added through the API). */
  create?: boolean;
  /** Load the model and start one embedding worker before listening, so the first query is not slow. */
  warmUp?: boolean;
  /** NATS server whose leases coordinate rewrites of a shared (s3://) collection (default: VISOR_QUEUE or the config's). */
  queue?: string;
  /** A shared collection's upkeep runs this often, by whichever node holds each shard's lease (default 10; 0: never). */
  upkeepMinutes?: number;
}

/** Opens the index and serves it over HTTP. Options are checked (key, host) before anything opens. */
export async function startServer(opts: StartOptions = {}): Promise<RunningServer> {
  const options = resolveServerOptions(opts);
  if (options.composeModel) await checkComposeModel(options.composeModel);
  const collection = await Collection.open({ db: opts.db, create: opts.create ?? false, ...(opts.queue ? { queue: opts.queue } : {}) });
  try {
    const app = await buildApp(collection, options);
    if (opts.warmUp) await collection.imageEncoder();
    await app.listen({ host: options.host, port: options.port });
    const upkeep = collection.shared ? startUpkeep(collection, (opts.upkeepMinutes ?? 10) * 60_000, (m) => app.log.warn(m)) : () => undefined;
    const addr = app.server.address();
    const port = typeof addr === 'object' && addr ? addr.port : options.port;
    const host = options.host.includes(':') ? `[${options.host}]` : options.host;
    return {
      app,
      collection,
      url: `http://${host}:${port}`,
      async close() {
        // Requests in flight finish; a keep-alive connection is closed as soon as it falls idle
        // (Node closes only those idle when closing starts, and a browser's would otherwise hold
        // the process for the keep-alive timeout); whatever is still open after 10 s is cut.
        upkeep();
        const started = Date.now();
        const sweep = setInterval(() => (Date.now() - started > 10_000 ? app.server.closeAllConnections() : app.server.closeIdleConnections()), 50);
        try {
          await app.close();
        } finally {
          clearInterval(sweep);
        }
        await collection.close();
      },
    };
  } catch (e) {
    await collection.close();
    throw e;
  }
}

/** A composition model the server offers must search an index by its stored features: refused at start, not at the first query. */
async function checkComposeModel(file: string): Promise<void> {
  const { ComposeModel } = await import('../compose/model.js');
  const model = await ComposeModel.load(file);
  try {
    if (model.config.image.kind !== 'mobilenet-pooled') {
      throw new VisorError(
        'QUERY_INVALID',
        `${file} reads pixels (${model.config.image.kind} encoder): a server composes over the features its index stores, which needs a model trained with --encoder mobilenet-pooled`,
      );
    }
  } finally {
    model.dispose();
  }
}
