import { VisorError } from '../errors.js';
import type { MobileNetOptions } from '../models/mobilenet.js';
import { prepareImageInputs, type ImageSource } from './image-inputs.js';
import { ImageTable } from './image-table.js';
import type { ComposeModel } from './model.js';
import { MOBILENET_POOLED_DIM } from './network.js';

/**
 * A reference image for a composed query: a file path or its bytes, or (for models on
 * MobileNetV2's pooled features) the 1280-d vector a Visor index already stores for it.
 */
export type ComposeReference = ImageSource | { features: Float32Array };

export interface ComposeQueryOptions {
  /** For the MobileNetV2-based encoders, when the reference is an image. */
  mobilenet?: MobileNetOptions;
}

function storedFeatureTable(model: ComposeModel, features: Float32Array): ImageTable {
  if (model.config.image.kind !== 'mobilenet-pooled') {
    throw new VisorError(
      'QUERY_INVALID',
      `this composition model reads images through its ${model.config.image.kind} encoder, not stored index vectors: give the reference image itself`,
    );
  }
  if (features.length % MOBILENET_POOLED_DIM !== 0) {
    throw new VisorError('QUERY_INVALID', `index vectors must be ${MOBILENET_POOLED_DIM}-d MobileNetV2 features, got ${features.length} values`);
  }
  return new ImageTable(features.length / MOBILENET_POOLED_DIM, [MOBILENET_POOLED_DIM], features);
}

async function referenceTable(model: ComposeModel, reference: ComposeReference, opts: ComposeQueryOptions): Promise<ImageTable> {
  if (typeof reference === 'object' && !Buffer.isBuffer(reference)) return storedFeatureTable(model, reference.features);
  return prepareImageInputs(model.config.image, [reference], { mobilenet: opts.mobilenet });
}

/**
 * The query vector for "this image, changed as the text says": f(φ(reference), ψ(text)), a unit
 * vector in the model's gallery space. Rank gallery vectors from {@link embedGallery} (or
 * {@link galleryFromIndexVectors}) by dot product.
 */
export async function composeQuery(model: ComposeModel, reference: ComposeReference, text: string, opts: ComposeQueryOptions = {}): Promise<Float32Array> {
  if (text.trim() === '') throw new VisorError('QUERY_INVALID', 'a composed query needs a modification text');
  const table = await referenceTable(model, reference, opts);
  const phi = await model.embedImages(table, { unit: false });
  return model.composeEmbeddings(phi, [text]);
}

/** Gallery vectors (n × dim, unit length) for images, through the model's image encoder. */
export async function embedGallery(
  model: ComposeModel,
  images: readonly ImageSource[],
  opts: ComposeQueryOptions & { onProgress?: (done: number, total: number) => void } = {},
): Promise<Float32Array> {
  const table = await prepareImageInputs(model.config.image, images, opts);
  return model.embedImages(table);
}

/**
 * Gallery vectors from a Visor index's stored MobileNetV2 vectors (n × 1280, as
 * `store.vectors()` returns them), for models with the `mobilenet-pooled` encoder: no image is
 * read again.
 */
export async function galleryFromIndexVectors(model: ComposeModel, matrix: Float32Array): Promise<Float32Array> {
  return model.embedImages(storedFeatureTable(model, matrix));
}
