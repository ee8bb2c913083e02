import type { GlobalOptions } from '../run.js';

export interface ServeCommandOptions extends GlobalOptions {
  host: string;
  port: number;
  apiKey?: string;
  maxUploadMb: number;
  maxPixels: number;
  rateLimit: number;
  searchCache: number;
  searchWorkers: number;
  composeModel?: string;
  corsOrigin: string[];
  create?: boolean;
  log?: boolean;
  queue?: string;
  upkeepMinutes: number;
}

/** Serves the index over HTTP until interrupted; prints where. */
export async function serveCommand(o: ServeCommandOptions): Promise<void> {
  const [{ startServer }, { isVisorError, VisorError }] = await Promise.all([import('../../server/start.js'), import('../../errors.js')]);
  const server = await startServer({
    db: o.db,
    create: o.create,
    host: o.host,
    port: o.port,
    // The environment is the better place for a secret: a command line is visible to other users.
    apiKey: o.apiKey ?? (process.env.VISOR_API_KEY || undefined),
    maxUploadBytes: o.maxUploadMb * 2 ** 20,
    maxPixels: o.maxPixels,
    rateLimit: { max: o.rateLimit, uploadMax: Math.max(1, Math.ceil(o.rateLimit / 10)), windowMs: 60_000, exemptLoopback: true },
    corsOrigins: o.corsOrigin,
    logRequests: o.log ?? false,
    searchCacheSize: o.searchCache,
    searchWorkers: o.searchWorkers,
    composeModel: o.composeModel,
    queue: o.queue,
    upkeepMinutes: o.upkeepMinutes,
    warmUp: true,
  }).catch((e: unknown) => {
    // The server can also start empty and take images through its API: say so.
    if (isVisorError(e, 'INDEX_EMPTY')) throw new VisorError('INDEX_EMPTY', `${e.message}, or start with --create and add images through the API`, { cause: e });
    if ((e as NodeJS.ErrnoException).code === 'EADDRINUSE')
      throw new VisorError(
        'PORT_IN_USE',
        `port ${o.port} on ${o.host} is in use (another visor serve?); choose another with --port, or --port 0 for any free one`,
        { cause: e },
      );
    throw e;
  });
  const stats = await server.collection.stats();
  const out = o.json
    ? JSON.stringify({ url: server.url, db: stats.db, items: stats.items })
    : `Serving ${stats.items} images from ${stats.db}\nOpen ${server.url}/ (Ctrl-C to stop)`;
  process.stdout.write(`${out}\n`);
  await new Promise<void>((resolve) => {
    const stop = () => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
  await server.close();
}
