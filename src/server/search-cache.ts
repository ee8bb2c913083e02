import type { SearchResponse } from '../search/pipeline.js';
import type { SerializedResponse } from './search-workers.js';

/**
 * Answers to recent JSON searches, per index version: a repeated query (a popular one, a page
 * revisited, the same search from many clients at once) is answered without searching again.
 * Any write to the index changes its version, and answers of older versions are never served.
 * Searches with uploaded images are not cached. Concurrent identical searches share one run.
 */
export class SearchCache {
  private version = -1;
  private readonly entries = new Map<string, Promise<SearchResponse | SerializedResponse>>();
  hits = 0;
  misses = 0;

  /** At most `capacity` answers (least recently used go first); 0 caches nothing. */
  constructor(readonly capacity: number) {}

  get size(): number {
    return this.entries.size;
  }

  async get(key: string, version: number, search: () => Promise<SearchResponse | SerializedResponse>): Promise<SearchResponse | SerializedResponse> {
    if (this.capacity === 0) return search();
    if (version !== this.version) {
      this.entries.clear();
      this.version = version;
    }
    const cached = this.entries.get(key);
    if (cached) {
      this.hits++;
      // Most recently used last: Map keeps insertion order.
      this.entries.delete(key);
      this.entries.set(key, cached);
      return cached;
    }
    this.misses++;
    const pending = search();
    this.entries.set(key, pending);
    // A failed search is not remembered: the next identical request tries again.
    pending.catch(() => this.entries.get(key) === pending && this.entries.delete(key));
    if (this.entries.size > this.capacity) this.entries.delete(this.entries.keys().next().value!);
    return pending;
  }
}
