import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { resolvePaths } from '../../../src/config.js';
import { decodeForModel, DEFAULT_MAX_PIXELS } from '../../../src/image/decode.js';
import { MobileNetV2, type MobileNetOptions } from '../../../src/models/mobilenet.js';
import { float16ToFloat32, float32ToFloat16 } from '../../../src/store/float16.js';
import { mirrorPixels } from '../../../src/image/mirror-pixels.js';

/** Frozen image-model outputs for a list of images, row i belonging to image i. */
export interface ImageFeatures {
  count: number;
  featureDim: number;
  numClasses: number;
  /** count × featureDim, L2-normalised (as the index stores them). */
  features: Float32Array;
  /** count × numClasses, rounded to half precision exactly as the index stores them. */
  probs: Float32Array;
}

export interface ExtractOptions {
  /** Feature cache root (default: `<cacheDir>/features`). */
  cacheDir?: string;
  /** Mirror the pixels left–right first: a training-time augmentation of the same image. */
  flip?: boolean;
  model?: MobileNetOptions;
  batchSize?: number;
  onProgress?: (done: number, total: number, cached: number) => void;
}

export interface ExtractStats {
  extracted: number;
  cached: number;
  seconds: number;
}

export function defaultFeatureCacheDir(): string {
  return path.join(resolvePaths().cacheDir, 'features');
}

/**
 * Features are cached per image content (sha256 of the file) and model (plus the variant, e.g.
 * flipped): renamed or copied images are not extracted again, edited ones are. One small file
 * per image (float32 features, float16 probabilities) keeps the cache trivially consistent
 * when a run is interrupted: a file is complete or absent.
 */
class FeatureCache {
  constructor(
    private readonly dir: string,
    private readonly featureDim: number,
    private readonly numClasses: number,
  ) {}

  private file(hash: string): string {
    return path.join(this.dir, hash.slice(0, 2), `${hash}.bin`);
  }

  read(hash: string, features: Float32Array, probs: Float32Array, row: number): boolean {
    let buf: Buffer;
    try {
      buf = fs.readFileSync(this.file(hash));
    } catch {
      return false;
    }
    if (buf.length !== this.featureDim * 4 + this.numClasses * 2) return false;
    const copy = new Uint8Array(buf); // aligned
    features.set(new Float32Array(copy.buffer, 0, this.featureDim), row * this.featureDim);
    probs.set(float16ToFloat32(new Uint16Array(copy.buffer, this.featureDim * 4, this.numClasses)), row * this.numClasses);
    return true;
  }

  write(hash: string, features: Float32Array, probsF16: Uint16Array): void {
    const f = this.file(hash);
    fs.mkdirSync(path.dirname(f), { recursive: true });
    const tmp = `${f}.${process.pid}.tmp`;
    fs.writeFileSync(
      tmp,
      Buffer.concat([
        Buffer.from(features.buffer, features.byteOffset, features.byteLength),
        Buffer.from(probsF16.buffer, probsF16.byteOffset, probsF16.byteLength),
      ]),
    );
    fs.renameSync(tmp, f);
  }
}

/**
 * MobileNetV2 features and class probabilities of `files`, decoded exactly as the indexer
 * decodes them (so a model trained on these sees at search time what the index stores).
 */
export async function extractImageFeatures(files: readonly string[], opts: ExtractOptions = {}): Promise<ImageFeatures & { stats: ExtractStats }> {
  const t0 = performance.now();
  const featureDim = 1280;
  const numClasses = 1000;
  // '-exact': features from the exact int8 kernel (src/models/int8-precision.ts). Caches written
  // before it hold saturated features on AVX2 CPUs without VNNI and must not be reused.
  const variant = MobileNetV2.spec.id + '-exact' + (opts.flip ? '-flip' : '');
  const cache = new FeatureCache(path.join(opts.cacheDir ?? defaultFeatureCacheDir(), variant), featureDim, numClasses);
  const n = files.length;
  const features = new Float32Array(n * featureDim);
  const probs = new Float32Array(n * numClasses);
  const missing: Array<{ row: number; hash: string }> = [];
  const hashes = files.map((f) => crypto.createHash('sha256').update(fs.readFileSync(f)).digest('hex'));
  for (let i = 0; i < n; i++) if (!cache.read(hashes[i]!, features, probs, i)) missing.push({ row: i, hash: hashes[i]! });
  const cached = n - missing.length;
  opts.onProgress?.(cached, n, cached);
  if (missing.length > 0) {
    const model = await MobileNetV2.load({ ...opts.model });
    try {
      const batchSize = opts.batchSize ?? 16;
      const batch = model.newBatch(batchSize);
      // Decoding the next batch overlaps the model run of this one.
      const decode = (start: number) =>
        Promise.all(
          missing.slice(start, start + batchSize).map(async ({ row }) => {
            const { pixels } = await decodeForModel(fs.readFileSync(files[row]!), model.inputSize, { maxPixels: DEFAULT_MAX_PIXELS });
            return opts.flip ? mirrorPixels(pixels, model.inputSize) : pixels;
          }),
        );
      let next = decode(0);
      for (let start = 0; start < missing.length; start += batchSize) {
        const pixels = await next;
        if (start + batchSize < missing.length) next = decode(start + batchSize);
        pixels.forEach((p, i) => model.pack(batch, i, p));
        const out = await model.run(batch, pixels.length);
        for (let i = 0; i < pixels.length; i++) {
          const { row, hash } = missing[start + i]!;
          const f = out.features.subarray(i * featureDim, (i + 1) * featureDim);
          const p16 = float32ToFloat16(out.probs.subarray(i * numClasses, (i + 1) * numClasses));
          features.set(f, row * featureDim);
          probs.set(float16ToFloat32(p16), row * numClasses);
          cache.write(hash, f, p16);
        }
        opts.onProgress?.(cached + start + pixels.length, n, cached);
      }
    } finally {
      await model.close();
    }
  }
  return {
    count: n,
    featureDim,
    numClasses,
    features,
    probs,
    stats: { extracted: missing.length, cached, seconds: (performance.now() - t0) / 1000 },
  };
}
