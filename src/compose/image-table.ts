import { tf } from './tf.js';

/**
 * Every training image's encoder input in one flat array (pixels, or precomputed MobileNetV2
 * features), read back in batches. Bytes stay bytes until a batch needs them: 19,000 scenes of
 * 64×64 RGB hold in 230 MB rather than 930 MB of floats.
 */
export class ImageTable {
  readonly perImage: number;

  /**
   * @param shape values per image, e.g. [64, 64, 3]
   * @param data count × perImage values
   * @param offset, scale a batch reads (value − offset) × scale
   */
  constructor(
    readonly count: number,
    readonly shape: readonly number[],
    readonly data: Uint8Array | Float32Array,
    readonly offset = 0,
    readonly scale = 1,
  ) {
    this.perImage = shape.reduce((a, b) => a * b, 1);
    if (data.length !== count * this.perImage) throw new Error(`image table: ${data.length} values for ${count} × ${this.perImage}`);
  }

  /** The rows as one float tensor [rows.length, …shape]. */
  batch(rows: ArrayLike<number>): tf.Tensor {
    const n = rows.length;
    const per = this.perImage;
    const out = new Float32Array(n * per);
    for (let i = 0; i < n; i++) {
      const src = rows[i]! * per;
      const dst = i * per;
      for (let j = 0; j < per; j++) out[dst + j] = (this.data[src + j]! - this.offset) * this.scale;
    }
    return tf.tensor(out, [n, ...this.shape]);
  }
}

/** Pixels (bytes 0–255) centred on zero, as the CNN reads them. */
export function pixelTable(count: number, side: number, pixels: Uint8Array): ImageTable {
  return new ImageTable(count, [side, side, 3], pixels, 127.5, 1 / 127.5);
}
