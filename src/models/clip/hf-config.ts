/**
 * A vision–language model's own settings, read from its Hugging Face configs: how to turn an
 * image into the vision tower's input (`preprocessor_config.json`) and the text context
 * length and embedding size (`config.json`). Values a file leaves out take the defaults
 * Hugging Face's Python library applies, so a minimal file means what it means there.
 */

export type Resample = 'nearest' | 'bilinear' | 'bicubic' | 'lanczos';

export interface ImagePreprocessing {
  /** How the image is resized before cropping; null keeps its size. */
  resize: { kind: 'shortest-edge'; shortestEdge: number } | { kind: 'exact'; width: number; height: number } | null;
  resample: Resample;
  /** Centre crop (padding with black where the image is smaller); null for none. */
  crop: { width: number; height: number } | null;
  /** Multiplier taking 0–255 pixel values to the model's range; null for none. */
  rescale: number | null;
  /** Per-channel (R, G, B) normalisation, applied after rescaling; null for none. */
  normalize: { mean: [number, number, number]; std: [number, number, number] } | null;
}

export interface ModelSettings {
  /** clip, siglip, … (config.json `model_type`). */
  modelType: string;
  /** Size of the shared image–text embedding space. */
  dimension: number;
  /** Tokens the text tower takes (CLIP 77, SigLIP 64). */
  contextLength: number;
  /** Side of the vision tower's square input. */
  imageSize: number;
}

export class ModelConfigError extends Error {
  override name = 'ModelConfigError';
}

type Json = Record<string, unknown>;

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function positiveInt(v: unknown, what: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) throw new ModelConfigError(`${what} must be a positive integer, got ${JSON.stringify(v)}`);
  return v;
}

function triple(v: unknown, what: string): [number, number, number] {
  if (typeof v === 'number' && Number.isFinite(v)) return [v, v, v];
  if (Array.isArray(v) && v.length === 3 && v.every((x) => typeof x === 'number' && Number.isFinite(x))) return [v[0], v[1], v[2]];
  throw new ModelConfigError(`${what} must be a number or three numbers, got ${JSON.stringify(v)}`);
}

/** PIL's resampling codes, as preprocessor configs write them. */
const PIL_RESAMPLE: Record<number, Resample> = {
  0: 'nearest',
  1: 'lanczos',
  2: 'bilinear',
  3: 'bicubic',
  // Box and Hamming have no equivalent in the reference; transformers.js also uses bilinear.
  4: 'bilinear',
  5: 'bilinear',
};

/**
 * `size` and `crop_size` come as a plain number (older files: for CLIP a number means the
 * shortest edge, for the crop a square) or as {shortest_edge} / {height, width}.
 */
function readSize(v: unknown): ImagePreprocessing['resize'] {
  if (typeof v === 'number') return { kind: 'shortest-edge', shortestEdge: positiveInt(v, 'size') };
  if (isObject(v)) {
    if (v.shortest_edge !== undefined) {
      if (v.longest_edge !== undefined) throw new ModelConfigError('size with both shortest_edge and longest_edge is not supported');
      return { kind: 'shortest-edge', shortestEdge: positiveInt(v.shortest_edge, 'size.shortest_edge') };
    }
    if (v.height !== undefined && v.width !== undefined) {
      return { kind: 'exact', width: positiveInt(v.width, 'size.width'), height: positiveInt(v.height, 'size.height') };
    }
  }
  throw new ModelConfigError(`unsupported size ${JSON.stringify(v)}`);
}

function readCrop(v: unknown): { width: number; height: number } {
  if (typeof v === 'number') return { width: positiveInt(v, 'crop_size'), height: v };
  if (isObject(v)) return { width: positiveInt(v.width, 'crop_size.width'), height: positiveInt(v.height, 'crop_size.height') };
  throw new ModelConfigError(`unsupported crop_size ${JSON.stringify(v)}`);
}

/** Reads a parsed `preprocessor_config.json` (CLIP, SigLIP and similar image processors). */
export function readPreprocessorConfig(json: unknown): ImagePreprocessing {
  if (!isObject(json)) throw new ModelConfigError('preprocessor_config.json is not a JSON object');
  const resize = json.do_resize === false ? null : readSize(json.size ?? json.image_size);
  const code = json.resample ?? 2;
  const resample = typeof code === 'number' ? PIL_RESAMPLE[code] : undefined;
  if (!resample) throw new ModelConfigError(`unsupported resample ${JSON.stringify(code)}`);
  // Hugging Face's CLIP image processor crops to 224 when the file names no crop size.
  const crop = json.do_center_crop === true ? readCrop(json.crop_size ?? 224) : null;
  let rescale: number | null = null;
  if (json.do_rescale !== false) {
    const f = json.rescale_factor ?? 1 / 255;
    if (typeof f !== 'number' || !Number.isFinite(f)) throw new ModelConfigError(`rescale_factor must be a number, got ${JSON.stringify(f)}`);
    rescale = f;
  }
  const normalize =
    json.do_normalize === true ? { mean: triple(json.image_mean ?? json.mean, 'image_mean'), std: triple(json.image_std ?? json.std, 'image_std') } : null;
  if (normalize?.std.some((s) => s === 0)) throw new ModelConfigError('image_std has a zero');
  const p: ImagePreprocessing = { resize, resample, crop, rescale, normalize };
  outputSize(p); // refuse configs whose output size depends on the image
  return p;
}

/** The vision tower's input size for these settings; it must not depend on the image. */
export function outputSize(p: ImagePreprocessing): { width: number; height: number } {
  if (p.crop) return p.crop;
  if (p.resize?.kind === 'exact') return { width: p.resize.width, height: p.resize.height };
  throw new ModelConfigError('preprocessing without a centre crop or a fixed resize gives images of varying size, which the vision tower cannot batch');
}

/**
 * Reads a parsed `config.json`. CLIP keeps the embedding size in `projection_dim`; SigLIP has
 * no projection and embeds at the text tower's hidden size.
 */
export function readModelConfig(json: unknown): ModelSettings {
  if (!isObject(json)) throw new ModelConfigError('config.json is not a JSON object');
  const modelType = typeof json.model_type === 'string' ? json.model_type : '';
  const text = isObject(json.text_config) ? json.text_config : {};
  const vision = isObject(json.vision_config) ? json.vision_config : {};
  const isClip = modelType === 'clip' || modelType === '';
  // Hugging Face's defaults for CLIP (CLIPConfig, CLIPTextConfig, CLIPVisionConfig) and SigLIP.
  const dimension = json.projection_dim ?? (isClip ? 512 : (text.projection_size ?? text.hidden_size ?? 768));
  const contextLength = text.max_position_embeddings ?? (isClip ? 77 : 64);
  const imageSize = vision.image_size ?? 224;
  return {
    modelType: modelType || 'clip',
    dimension: positiveInt(dimension, 'projection_dim'),
    contextLength: positiveInt(contextLength, 'text_config.max_position_embeddings'),
    imageSize: positiveInt(imageSize, 'vision_config.image_size'),
  };
}

/**
 * The preprocessing settings as Visor keeps them (every value explicit, fixed key order):
 * upstream copies of the same settings differ in layout (`size: 224` or
 * `{"shortest_edge": 224}`) and in fields nothing reads, so the registry pins this form.
 */
export function canonicalPreprocessorConfig(fetched: Buffer): Buffer {
  const p = readPreprocessorConfig(JSON.parse(fetched.toString('utf8')));
  const resampleCode = { nearest: 0, lanczos: 1, bilinear: 2, bicubic: 3 }[p.resample];
  const canonical = {
    do_resize: p.resize !== null,
    ...(p.resize?.kind === 'shortest-edge' ? { size: { shortest_edge: p.resize.shortestEdge } } : {}),
    ...(p.resize?.kind === 'exact' ? { size: { height: p.resize.height, width: p.resize.width } } : {}),
    resample: resampleCode,
    do_center_crop: p.crop !== null,
    ...(p.crop ? { crop_size: { height: p.crop.height, width: p.crop.width } } : {}),
    do_rescale: p.rescale !== null,
    ...(p.rescale !== null ? { rescale_factor: p.rescale } : {}),
    do_normalize: p.normalize !== null,
    ...(p.normalize ? { image_mean: p.normalize.mean, image_std: p.normalize.std } : {}),
  };
  return Buffer.from(`${JSON.stringify(canonical, null, 2)}\n`, 'utf8');
}

/** The model settings as Visor keeps them, with Hugging Face's defaults written out. */
export function canonicalModelConfig(fetched: Buffer): Buffer {
  const m = readModelConfig(JSON.parse(fetched.toString('utf8')));
  const canonical = {
    model_type: m.modelType,
    projection_dim: m.dimension,
    text_config: { max_position_embeddings: m.contextLength },
    vision_config: { image_size: m.imageSize },
  };
  return Buffer.from(`${JSON.stringify(canonical, null, 2)}\n`, 'utf8');
}
