import os from 'node:os';
import sharp from 'sharp';
import { decodeForModel, DEFAULT_MAX_PIXELS } from '../image/decode.js';
import { contentId } from '../ingest/read-image.js';
import { DEFAULT_LOCALIZE_METHOD, localize, objectInput, workingCopy, type CropOptions, type Localization, type LocalizeMethod } from '../localize/localizer.js';
import type { Box } from '../localize/mask.js';
import { localizeInBox } from '../localize/object-box.js';
import type { Rgb } from '../localize/saliency.js';
import { MobileNetV2, type MobileNetOptions } from '../models/mobilenet.js';
import { mirrorPixels } from '../image/mirror-pixels.js';

/** One image through the localisation stage. */
export interface EncodedObject {
  /** Content id of the bytes. */
  id: string;
  /** Whole-image features and class probabilities, exactly as the indexer computes them. */
  vector: Float32Array;
  probs: Float32Array;
  width: number;
  height: number;
  /** Present when localisation ran. */
  localization?: Localization;
  /** Features of the object alone (the whole image's when no object was found). */
  objectVector?: Float32Array;
  /** Features and probabilities of the image's left–right mirror, when asked for. */
  mirror?: { vector: Float32Array; probs: Float32Array };
}

export interface EncodeOptions {
  /** Localise and embed the object too (default true). */
  localize?: boolean;
  method?: LocalizeMethod;
  /**
   * The `objects` method: per image, the detected object's box (fractions of the image), or
   * null where nothing was detected (the default saliency method then looks for the object).
   */
  boxes?: ReadonlyArray<Box | null>;
  crop?: CropOptions;
  maxPixels?: number;
  /**
   * true: also embed each image's left–right mirror, in the same model run (`mirror` of the
   * result); 'only': embed the mirrors instead of the images. Default false.
   */
  mirror?: boolean | 'only';
}

// Crops are cut from a copy at twice the model's resolution: enough detail for small objects.
const SOURCE_SIDE = 448;

async function decodeSource(bytes: Buffer, maxPixels: number): Promise<Rgb> {
  let img = sharp(bytes, { limitInputPixels: maxPixels, autoOrient: true });
  const meta = await img.metadata();
  if (meta.hasAlpha) img = img.flatten({ background: { r: 255, g: 255, b: 255 } });
  const { data, info } = await img
    .resize(SOURCE_SIDE, SOURCE_SIDE, { fit: 'inside', withoutEnlargement: true })
    .toColourspace('srgb')
    .removeAlpha()
    .raw({ depth: 'uchar' })
    .toBuffer({ resolveWithObject: true });
  return { width: info.width, height: info.height, data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) };
}

/**
 * The image model with its activation maps exposed: one run gives the whole-image features,
 * the class probabilities (for the category classifier) and the maps localisation starts from;
 * a second run embeds the object alone.
 */
export class ObjectEncoder {
  private constructor(private readonly model: MobileNetV2) {}

  static async load(opts: MobileNetOptions = {}): Promise<ObjectEncoder> {
    return new ObjectEncoder(await MobileNetV2.load({ threads: os.availableParallelism(), ...opts, activationMaps: true }));
  }

  get featureDim(): number {
    return this.model.featureDim;
  }

  /** Encodes a batch of images (file bytes). Images that fail to decode reject the whole call. */
  async encode(images: readonly Buffer[], opts: EncodeOptions = {}): Promise<EncodedObject[]> {
    const maxPixels = opts.maxPixels ?? DEFAULT_MAX_PIXELS;
    const size = this.model.inputSize;
    const wantObject = opts.localize ?? true;
    const inputs = await Promise.all(images.map((b) => decodeForModel(b, size, { maxPixels })));
    const sources = wantObject ? await Promise.all(images.map((b) => decodeSource(b, maxPixels))) : [];
    const n = images.length;
    const both = opts.mirror === true;
    if (opts.mirror === 'only') for (const inp of inputs) inp.pixels = Buffer.from(mirrorPixels(inp.pixels, size));
    const slots = both ? 2 * n : n;
    const batch = this.model.newBatch(slots);
    inputs.forEach((inp, i) => this.model.pack(batch, i, inp.pixels));
    if (both) inputs.forEach((inp, i) => this.model.pack(batch, n + i, mirrorPixels(inp.pixels, size)));
    const whole = await this.model.run(batch, slots);
    const dim = this.model.featureDim;
    const classes = this.model.numClasses;
    const out: EncodedObject[] = inputs.map((inp, i) => ({
      id: contentId(images[i]!),
      vector: whole.features.slice(i * dim, (i + 1) * dim),
      probs: whole.probs.slice(i * classes, (i + 1) * classes),
      width: inp.width,
      height: inp.height,
      ...(both
        ? { mirror: { vector: whole.features.slice((n + i) * dim, (n + i + 1) * dim), probs: whole.probs.slice((n + i) * classes, (n + i + 1) * classes) } }
        : {}),
    }));
    if (!wantObject) return out;
    const maps = whole.maps!;
    const mapSize = maps.channels * maps.height * maps.width;
    const method = opts.method ?? DEFAULT_LOCALIZE_METHOD;
    await Promise.all(
      out.map(async (o, i) => {
        const work = await workingCopy(inputs[i]!.pixels, size);
        const acts = { data: maps.data.subarray(i * mapSize, (i + 1) * mapSize), channels: maps.channels, height: maps.height, width: maps.width };
        const aspect = o.width / o.height;
        const box = method === 'objects' ? opts.boxes?.[i] : null;
        if (box) o.localization = localizeInBox(box, work, aspect);
        else o.localization = localize(method === 'objects' ? DEFAULT_LOCALIZE_METHOD : method, work, acts, aspect);
      }),
    );
    // Where no object stands out, the whole image is the object: its features already exist.
    const found = out.filter((o) => o.localization!.found);
    for (const o of out) if (!o.localization!.found) o.objectVector = o.vector;
    if (found.length === 0) return out;
    const objBatch = this.model.newBatch(found.length);
    const crops = await Promise.all(found.map((o) => objectInput(sources[out.indexOf(o)]!, o.localization!, size, opts.crop)));
    crops.forEach((c, i) => this.model.pack(objBatch, i, c));
    const obj = await this.model.run(objBatch, found.length);
    found.forEach((o, i) => {
      o.objectVector = obj.features.slice(i * dim, (i + 1) * dim);
    });
    return out;
  }

  async close(): Promise<void> {
    await this.model.close();
  }
}
