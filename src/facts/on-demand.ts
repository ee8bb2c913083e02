import type { FactStage, ImageFacts } from '../core/facts.js';
import { VisorError } from '../errors.js';

/**
 * Facts of images outside the index, computed when asked (`visor text photo.jpg`, `visor tags`
 * on a file that is not indexed): the readers of the stages asked for load on first use and
 * stay loaded for the next image.
 */
export class FactsOnDemand {
  async compute(_bytes: Buffer, stages: readonly FactStage[], _existing?: ImageFacts): Promise<ImageFacts> {
    throw new VisorError('MODEL_NOT_FOUND', `the ${stages.join(', ')} fact stage has no reader in this build`);
  }

  async close(): Promise<void> {}
}

/** One image's facts by these stages, with nothing loaded before or kept after. */
export async function factsOfImage(bytes: Buffer, stages: readonly FactStage[]): Promise<ImageFacts> {
  const onDemand = new FactsOnDemand();
  try {
    return await onDemand.compute(bytes, stages);
  } finally {
    await onDemand.close();
  }
}
