import fs from 'node:fs/promises';
import os from 'node:os';
import { VisorError, errorMessage } from '../errors.js';
import { decodeForModel, DEFAULT_MAX_PIXELS } from '../image/decode.js';
import { mapUnordered } from '../ingest/concurrent.js';
import { MobileNetV2, SPATIAL_SHAPE, type MobileNetOptions } from '../models/mobilenet.js';
import { ImageTable, pixelTable } from './image-table.js';
import { MOBILENET_POOLED_DIM, type ImageEncoderConfig } from './network.js';

/** Image sources: file paths, or the bytes of files already read. */
export type ImageSource = string | Buffer;

export interface ImageInputOptions {
  /** For the MobileNetV2-based encoders. */
  mobilenet?: MobileNetOptions;
  onProgress?: (done: number, total: number) => void;
}

async function bytesOf(src: ImageSource): Promise<Buffer> {
  if (typeof src !== 'string') return src;
  try {
    return await fs.readFile(src);
  } catch (e) {
    throw new VisorError('IMAGE_UNREADABLE', `cannot read image ${src}: ${errorMessage(e)}`, { cause: e });
  }
}

/** Decodes the sources at `side`×`side` (several at once: sharp decodes off the main thread). */
async function decodeAll(
  sources: readonly ImageSource[],
  side: number,
  each: (i: number, px: Buffer) => void | Promise<void>,
  onProgress?: (d: number, t: number) => void,
): Promise<void> {
  let done = 0;
  const work = sources.map((s, i) => ({ s, i }));
  const decode = async ({ s, i }: { s: ImageSource; i: number }) => {
    try {
      return { i, px: (await decodeForModel(await bytesOf(s), side, { maxPixels: DEFAULT_MAX_PIXELS })).pixels, error: null };
    } catch (e) {
      return { i, px: null, error: e };
    }
  };
  for await (const r of mapUnordered(work, Math.max(2, os.availableParallelism() * 2), decode)) {
    if (r.error) {
      const where = typeof sources[r.i] === 'string' ? (sources[r.i] as string) : `image ${r.i + 1}`;
      throw new VisorError('IMAGE_INVALID', `${where}: ${errorMessage(r.error)}`, { cause: r.error });
    }
    await each(r.i, r.px!);
    if (++done % 500 === 0 || done === sources.length) onProgress?.(done, sources.length);
  }
}

/**
 * What the given image encoder reads for each source, in order: pixels at the CNN's input size,
 * or MobileNetV2's pooled features or 7×7 map (the MobileNetV2 part stays frozen, so it runs
 * once here rather than at every training step).
 */
export async function prepareImageInputs(cfg: ImageEncoderConfig, sources: readonly ImageSource[], opts: ImageInputOptions = {}): Promise<ImageTable> {
  const n = sources.length;
  if (cfg.kind === 'cnn') {
    const per = cfg.inputSize * cfg.inputSize * 3;
    // Shared memory: training worker threads read the images without a copy.
    const pixels = new Uint8Array(new SharedArrayBuffer(n * per));
    await decodeAll(sources, cfg.inputSize, (i, px) => pixels.set(px, i * per), opts.onProgress);
    return pixelTable(n, cfg.inputSize, pixels);
  }
  const spatial = cfg.kind === 'mobilenet-spatial';
  const model = await MobileNetV2.load({ ...opts.mobilenet, spatial });
  try {
    const [c, h, w] = SPATIAL_SHAPE;
    const cells = h * w;
    const per = spatial ? c * cells : MOBILENET_POOLED_DIM;
    const out = spatial ? new Uint8Array(new SharedArrayBuffer(n * per)) : new Float32Array(new SharedArrayBuffer(n * per * 4));
    const batchSize = 16;
    let batch = model.newBatch(batchSize);
    let slots: number[] = [];
    const flush = async () => {
      if (slots.length === 0) return;
      const emb = await model.run(batch, slots.length);
      slots.forEach((row, k) => {
        if (!spatial) return out.set(emb.features.subarray(k * per, (k + 1) * per), row * per);
        // NCHW from the model → HWC rows, as the network's per-cell layer reads them.
        const src = emb.spatial!.subarray(k * per, (k + 1) * per);
        for (let ch = 0; ch < c; ch++) for (let p = 0; p < cells; p++) out[row * per + p * c + ch] = src[ch * cells + p]!;
      });
      batch = model.newBatch(batchSize);
      slots = [];
    };
    await decodeAll(
      sources,
      model.inputSize,
      async (i, px) => {
        model.pack(batch, slots.length, px);
        slots.push(i);
        if (slots.length === batchSize) await flush();
      },
      opts.onProgress,
    );
    await flush();
    // The map's quantization scale is one constant: the learned layer absorbs it; 1/64 keeps values near unit size.
    return spatial ? new ImageTable(n, [h, w, c], out, model.spatialZeroPoint!, 1 / 64) : new ImageTable(n, [MOBILENET_POOLED_DIM], out);
  } finally {
    await model.close();
  }
}
