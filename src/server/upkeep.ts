import { errorMessage } from '../errors.js';
import type { Collection } from '../collection.js';

/**
 * A query node's share of a shared collection's upkeep: every interval it offers to maintain the
 * collection (each shard under its lease, so nodes never collide and one that dies hands over by
 * its lease expiring). A failed round is reported and retried next time; it never stops serving.
 * Returns a function that stops it.
 */
export function startUpkeep(collection: Pick<Collection, 'maintain'>, everyMs: number, warn: (message: string) => void): () => void {
  if (!(everyMs > 0)) return () => undefined;
  let running = false;
  const timer = setInterval(() => {
    if (running) return;
    running = true;
    collection
      .maintain()
      .catch((e: unknown) => warn(`upkeep of the collection failed (next try in ${Math.round(everyMs / 60_000)} min): ${errorMessage(e)}`))
      .finally(() => (running = false));
  }, everyMs);
  timer.unref();
  return () => clearInterval(timer);
}
