import { resolvePaths } from '../config.js';
import { VisorError } from '../errors.js';
import { findAnyModel } from './local-models.js';
import type { MobileNetOptions } from './mobilenet.js';
import { MOBILENET_V2_INT8 } from './registry.js';
import type { ImageEncoder } from './types.js';

export interface ImageEncoderOptions extends MobileNetOptions {
  /** Registry or added model id (default: MobileNetV2). */
  id?: string;
  /** A CLIP-family model used straight from its folder (Hugging Face ONNX layout); `id` names it. */
  folder?: string;
}

/**
 * The image encoder for a model id: MobileNetV2, or the vision tower of a CLIP-family model
 * (built in or added from a folder). Only the image tower is loaded.
 */
export async function loadImageEncoder(opts: ImageEncoderOptions = {}): Promise<ImageEncoder> {
  const { id = MOBILENET_V2_INT8.id, folder, ...rest } = opts;
  if (folder) {
    const { ClipModel } = await import('./clip/clip-model.js');
    return (await ClipModel.load(folder, { ...rest, id, towers: ['image'] })).imageEncoder();
  }
  if (id === MOBILENET_V2_INT8.id) {
    const { MobileNetV2 } = await import('./mobilenet.js');
    return MobileNetV2.load(rest);
  }
  const spec = findAnyModel(id, rest.paths ?? resolvePaths());
  if (!spec) throw new VisorError('MODEL_UNKNOWN', `unknown model ${JSON.stringify(id)}; see 'visor models list'`);
  if (spec.format !== 'hf-onnx') throw new VisorError('MODEL_UNKNOWN', `${id} is not an image model`);
  const { ClipModel } = await import('./clip/clip-model.js');
  const model = await ClipModel.load(spec, { ...rest, towers: ['image'] });
  return model.imageEncoder();
}
