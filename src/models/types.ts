import type { DecodeLimits, ModelInput } from '../image/decode.js';

/** Batch output of an image encoder: row i of each matrix belongs to image i. */
export interface ImageEmbeddings {
  count: number;
  /** count × featureDim, each row L2-normalised. */
  features: Float32Array;
  /** count × numClasses class probabilities (empty when the model has no classifier). */
  probs: Float32Array;
  /** A quantized spatial feature map per image, when the encoder was asked for one. */
  spatial?: Uint8Array;
  /** count × channels × height × width activations, when the encoder was asked for them. */
  maps?: { data: Float32Array; channels: number; height: number; width: number };
}

/**
 * What indexing and search need from an image model. Decoded pixels are packed into a batch
 * buffer as they arrive, so the model's own layout work is spread over the decode time.
 */
export interface ImageEncoder {
  readonly id: string;
  /** Square input side in pixels. */
  readonly inputSize: number;
  readonly featureDim: number;
  readonly numClasses: number;
  /**
   * Decodes an image file into what `pack` takes, when the model resizes or crops in its own
   * way (CLIP: shortest edge, then centre crop); without it, decodeForModel squashes the image
   * to inputSize².
   */
  decode?(bytes: Buffer, limits: DecodeLimits): Promise<ModelInput>;
  newBatch(n: number): Uint8Array;
  /** Writes one decoded RGB image (inputSize², row-major) into slot `slot` of a batch. */
  pack(batch: Uint8Array, slot: number, rgb: Uint8Array): void;
  run(batch: Uint8Array, count: number): Promise<ImageEmbeddings>;
  close(): Promise<void>;
}
