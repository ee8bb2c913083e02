import type { ImageFacts } from '../core/facts.js';
import type { Box } from '../localize/mask.js';
import { boxFraction, chooseDetection } from '../localize/object-box.js';

/**
 * Where the `objects` localisation method gets its detections: the facts stored at index time
 * when an item has them, the detector run on the image otherwise (items indexed before the
 * objects stage was switched on, and query images).
 */
export interface ObjectDetections {
  /** Stored facts by item id; ids without facts, or without the objects stage, may be left out. */
  stored(ids: readonly string[]): Promise<Map<string, ImageFacts>>;
  /** Runs the detector on one image (file bytes): its detections, with the size their boxes refer to. */
  detect(bytes: Buffer): Promise<Pick<ImageFacts, 'objects' | 'width' | 'height'>>;
  close(): Promise<void>;
}

export interface BoxRequest {
  /** Content id: stored facts are looked up by it (an indexed query image has them too). */
  id: string;
  bytes: Buffer;
  /** The item's category, when the collection is categorised: a detection of it is preferred. */
  category?: string | null;
}

/** The box to localise in each image (fractions of the image), or null where nothing sure was detected. */
export async function objectBoxes(source: ObjectDetections, images: readonly BoxRequest[]): Promise<Array<Box | null>> {
  const stored = await source.stored(images.map((im) => im.id));
  return Promise.all(
    images.map(async (im) => {
      const known = stored.get(im.id);
      const facts = known?.objects ? known : await source.detect(im.bytes);
      const d = chooseDetection(facts.objects ?? [], im.category);
      return d ? boxFraction(d, facts.width, facts.height) : null;
    }),
  );
}
