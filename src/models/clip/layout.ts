import fs from 'node:fs';
import path from 'node:path';
import { VisorError } from '../../errors.js';

/**
 * Where a vision–language model's files are, in the Hugging Face ONNX layout that
 * transformers.js models use: configs and tokenizer at the top, one ONNX file per tower under
 * `onnx/` (`vision_model.onnx`, `text_model_quantized.onnx`, …).
 */
export interface HfOnnxFiles {
  preprocessorConfig: string;
  config: string;
  tokenizer?: string;
  vision?: string;
  text?: string;
}

/**
 * Precisions tried in order when a folder holds several: the int8 export is a quarter of the
 * size and the fastest on CPU; fp16 and 4-bit exports are left out (onnxruntime's CPU kernels
 * run them slowly or convert them back to float).
 */
const VARIANTS = ['_quantized', '', '_int8', '_uint8'];

export function towerFile(tower: 'vision' | 'text', variant: string): string {
  return `onnx/${tower}_model${variant}.onnx`;
}

/** The files of a registry or added model, by their names in the layout. */
export function filesFromResolved(resolved: Readonly<Record<string, string>>): HfOnnxFiles {
  const pick = (re: RegExp) => Object.keys(resolved).find((k) => re.test(k));
  const preprocessorConfig = resolved['preprocessor_config.json'];
  const config = resolved['config.json'];
  if (!preprocessorConfig || !config) throw new VisorError('MODEL_NOT_FOUND', 'model has no preprocessor_config.json or config.json');
  const vision = pick(/^onnx\/vision_model[\w-]*\.onnx$/);
  const text = pick(/^onnx\/text_model[\w-]*\.onnx$/);
  return {
    preprocessorConfig,
    config,
    tokenizer: resolved['tokenizer.json'],
    vision: vision && resolved[vision],
    text: text && resolved[text],
  };
}

/**
 * The files of a model folder, relative to it. Each tower is optional (an image-only model is
 * usable for indexing), but at least the vision tower must be there.
 */
export function scanHfOnnxFolder(folder: string, variant?: string): string[] {
  const has = (rel: string) => fs.statSync(path.join(folder, rel), { throwIfNoEntry: false })?.isFile() === true;
  if (!fs.statSync(folder, { throwIfNoEntry: false })?.isDirectory()) {
    throw new VisorError('NOT_FOUND', `${folder} is not a folder`);
  }
  const missing = ['preprocessor_config.json', 'config.json'].filter((f) => !has(f));
  if (missing.length > 0) throw new VisorError('MODEL_NOT_FOUND', `${folder} has no ${missing.join(' or ')}: not a Hugging Face ONNX model folder`);
  const variants = variant === undefined ? VARIANTS : [variant === 'fp32' ? '' : `_${variant}`];
  const tower = (t: 'vision' | 'text') => variants.map((v) => towerFile(t, v)).find(has);
  const vision = tower('vision');
  if (!vision) {
    throw new VisorError(
      'MODEL_NOT_FOUND',
      `${folder} has no vision tower (looked for ${variants.map((v) => towerFile('vision', v)).join(', ')}); ` +
        'export the towers separately, as transformers.js models do',
    );
  }
  const text = tower('text');
  return ['preprocessor_config.json', 'config.json', ...(has('tokenizer.json') ? ['tokenizer.json'] : []), vision, ...(text ? [text] : [])];
}
