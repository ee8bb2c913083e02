/**
 * How search reads the per-image facts (objects, colours, text in the image): the whole set at
 * once, with a version that changes whenever they do, so that a search reads them once per
 * change and then finds each row's facts by position.
 */
import type { ImageFacts } from '../core/facts.js';

/** The collection's facts, by item id (the `facts` side table satisfies it). */
export interface FactsSource {
  /** Changes whenever any item's facts do (or which of them are read). */
  version(): Promise<number | string>;
  /** Every item's facts that has any. */
  all(): Promise<ReadonlyMap<string, ImageFacts>>;
}

/** Facts aligned with a snapshot of the collection's rows, re-read when the facts or the rows change. */
export class FactsView {
  private cache: { version: number | string; ids: readonly string[]; rows: Array<ImageFacts | undefined> } | null = null;
  private reading: Promise<unknown> | null = null;

  constructor(private readonly source: FactsSource) {}

  /** Per row of `ids`, that item's facts (undefined for an item no stage has read yet). */
  async rows(ids: readonly string[]): Promise<ReadonlyArray<ImageFacts | undefined>> {
    const version = await this.source.version();
    if (this.cache && this.cache.version === version && this.cache.ids === ids) return this.cache.rows;
    // One read at a time: concurrent searches after a change wait for the same one.
    while (this.reading) await this.reading.catch(() => undefined);
    if (this.cache && this.cache.version === version && this.cache.ids === ids) return this.cache.rows;
    const read = this.source.all().then((all) => {
      const rows = ids.map((id) => all.get(id));
      this.cache = { version, ids, rows };
      return rows;
    });
    this.reading = read;
    try {
      return await read;
    } finally {
      this.reading = null;
    }
  }
}
