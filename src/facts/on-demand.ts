import type { FactStage, ImageFacts } from '../core/facts.js';
import { DEFAULT_MAX_PIXELS } from '../image/limits.js';
import { computeFacts, decodeForFacts, stagesToCompute } from './compute.js';
import type { FactReader } from './reader.js';
import { loadFactReader, type FactReaderOptions } from './readers.js';

export interface FactsOnDemandOptions extends FactReaderOptions {
  /** Images with more pixels are refused before decoding (default: the indexer's limit). */
  maxPixels?: number;
}

/**
 * Facts of images outside the index, computed when asked (`visor text photo.jpg`, `visor tags`
 * on a file that is not indexed, localising by objects where none are stored), as the index-time
 * pass computes them: decoded once, the readers in order, the same caps. The readers of the
 * stages asked for load on first use and stay loaded for the next image.
 */
export class FactsOnDemand {
  private readonly readers = new Map<FactStage, Promise<FactReader>>();

  constructor(private readonly opts: FactsOnDemandOptions = {}) {}

  private reader(stage: FactStage): Promise<FactReader> {
    let r = this.readers.get(stage);
    if (!r) {
      r = loadFactReader(stage, this.opts);
      this.readers.set(stage, r);
      r.catch(() => this.readers.delete(stage));
    }
    return r;
  }

  /** The image's facts by `stages`, over `existing` (what is stored for it): only the stages it lacks are computed. */
  async compute(bytes: Buffer, stages: readonly FactStage[], existing?: ImageFacts): Promise<ImageFacts> {
    const todo = stagesToCompute(existing, stages);
    if (existing && todo.length === 0) return existing;
    const decoded = await decodeForFacts(bytes, { maxPixels: this.opts.maxPixels ?? DEFAULT_MAX_PIXELS });
    const readers = new Map(await Promise.all(todo.map(async (s) => [s, await this.reader(s)] as const)));
    return computeFacts(decoded.image, decoded, readers, todo, existing);
  }

  async close(): Promise<void> {
    const loaded = [...this.readers.values()];
    this.readers.clear();
    for (const r of loaded) await (await r.catch(() => null))?.close();
  }
}

/** One image's facts by these stages, with nothing loaded before or kept after. */
export async function factsOfImage(bytes: Buffer, stages: readonly FactStage[], opts: FactsOnDemandOptions = {}): Promise<ImageFacts> {
  const onDemand = new FactsOnDemand(opts);
  try {
    return await onDemand.compute(bytes, stages);
  } finally {
    await onDemand.close();
  }
}
