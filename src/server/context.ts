import type { Collection } from '../collection.js';
import type { ServerOptions } from './options.js';
import type { SearchCache } from './search-cache.js';
import type { SearchWorkers } from './search-workers.js';
import type { Thumbnails } from './thumbnails.js';
import type { WriteQueue } from './write-queue.js';

/** What every route needs: the collection it serves, the options it runs with, and shared helpers. */
export interface ServerContext {
  collection: Collection;
  options: ServerOptions;
  thumbnails: Thumbnails;
  searchCache: SearchCache;
  /** Where JSON searches run when the server has search workers. */
  searchWorkers: SearchWorkers | null;
  writes: WriteQueue;
  /** Where uploaded images are kept once added (inside the index folder: the index owns them). */
  uploadsDir: string;
  version: string;
  /** Reads need the API key too (the server is reachable from the network). */
  keyForReads: boolean;
}
