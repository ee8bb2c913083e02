import type { Collection } from '../collection.js';
import { VisorError } from '../errors.js';

/** Shorter than a full id (32 hex digits), long enough to be worth looking up. */
const PREFIX = /^[0-9a-f]{6,31}$/;

/** How many of an id's digits result tables show: enough to name one item, like a short git hash. */
export const SHORT_ID = 12;

/**
 * Item ids as a user types them: a full id, or the start of one as `visor search` shows it
 * (a trailing "…" is allowed), which must name exactly one item.
 */
export async function resolveItemIds(collection: Collection, ids: readonly string[]): Promise<string[]> {
  return Promise.all(
    ids.map(async (given) => {
      const id = given.trim().toLowerCase().replace(/…$/, '');
      if (!PREFIX.test(id)) return given; // a full id, or something the store will refuse with its reason
      const hits = [...(await collection.store.matchingIds(`id LIKE '${id}%'`))];
      if (hits.length === 1) return hits[0]!;
      if (hits.length === 0) throw new VisorError('NOT_FOUND', `no item with id ${given}`);
      throw new VisorError('QUERY_INVALID', `${hits.length} items have ids starting with ${given}: give more of the id`);
    }),
  );
}
