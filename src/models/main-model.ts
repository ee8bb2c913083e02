import fs from 'node:fs';
import path from 'node:path';
import { resolvePaths, type VisorPaths } from '../config.js';
import { VisorError } from '../errors.js';
import { findAnyModel, idFromFolder } from './local-models.js';
import { MOBILENET_V2_INT8, type ModelSpec } from './registry.js';

/**
 * A collection's main image model, as `--model` names it when the collection is created: a
 * built-in or added model id (MobileNetV2 by default, or a CLIP-family model), or a folder in
 * the Hugging Face ONNX layout (used in place, named after the folder).
 */
export interface MainModelRef {
  id: string;
  spec?: ModelSpec;
  folder?: string;
}

export function mainModelFor(ref: string | undefined, paths: VisorPaths = resolvePaths()): MainModelRef {
  if (ref === undefined || ref === MOBILENET_V2_INT8.id) return { id: MOBILENET_V2_INT8.id, spec: MOBILENET_V2_INT8 };
  const spec = findAnyModel(ref, paths);
  if (spec) return { id: spec.id, spec };
  const abs = path.resolve(ref);
  if (fs.statSync(abs, { throwIfNoEntry: false })?.isDirectory()) return { id: idFromFolder(abs), folder: abs };
  throw new VisorError('MODEL_UNKNOWN', `unknown model ${JSON.stringify(ref)}: not a model id (see 'visor models list') nor a model folder`);
}

/** The main model a collection records (its id, and for a folder model where it is). */
export function recordedMainModel(imageModel: string, folder: unknown, paths: VisorPaths = resolvePaths()): MainModelRef {
  if (typeof folder === 'string') return { id: imageModel, folder };
  return mainModelFor(imageModel, paths);
}

/** Whether a main model is a vision–language model (an image tower with a text tower beside it). */
export function isVisionLanguage(m: MainModelRef): boolean {
  return m.folder !== undefined || m.spec?.format === 'hf-onnx';
}
