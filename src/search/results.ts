import type { VectorStore } from '../store/port.js';
import type { MetaRecord, StoredItem, VectorHit } from '../store/types.js';

/** One search result as every interface shows it. */
export interface SearchResult {
  rank: number;
  id: string;
  /** Cosine similarity of image features (1 = same image). */
  score: number;
  path: string;
  /** Every path holding this exact content (duplicates). */
  paths: string[];
  width: number;
  height: number;
  format: string;
  meta: MetaRecord;
}

export interface SearchOptions {
  /** Results wanted (default 10). */
  k?: number;
  /** Results skipped first, for paging (default 0). */
  offset?: number;
  /** SQL filter over catalogue columns, e.g. "category = 'bottle'". */
  where?: string;
  /** Exhaustive search even where an ANN index exists. */
  exact?: boolean;
}

/** Joins vector hits with their stored records, keeping the hits' order. */
export async function hydrate(store: Pick<VectorStore, 'getItems'>, hits: VectorHit[], offset = 0): Promise<SearchResult[]> {
  const page = hits.slice(offset);
  const items = new Map<string, StoredItem>((await store.getItems(page.map((h) => h.id))).map((i) => [i.id, i]));
  return page.flatMap((h, i) => {
    const it = items.get(h.id);
    if (!it) return []; // removed between search and lookup
    return [
      { rank: offset + i + 1, id: h.id, score: h.score, path: it.path, paths: it.paths, width: it.width, height: it.height, format: it.format, meta: it.meta },
    ];
  });
}
