import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { resolvePaths, type VisorPaths } from '../config.js';
import { VisorError, errorMessage } from '../errors.js';
import { scanHfOnnxFolder } from './clip/layout.js';
import { sha256File } from './download.js';
import { findModel, listModels, type ModelSpec } from './registry.js';

/**
 * Models a user brings from a local folder (`visor models add`). The files stay in the folder;
 * Visor records their sizes and sha256 so `models verify` can tell when they change, in
 * `<cache dir>/models/local-models.json` (per user, beside downloaded models).
 */
interface LocalModelEntry {
  id: string;
  format: 'hf-onnx';
  folder: string;
  files: Array<{ name: string; size: number; sha256: string }>;
  addedAt: string;
}

interface LocalModelsFile {
  version: 1;
  models: LocalModelEntry[];
}

export function localModelsFile(paths: VisorPaths): string {
  return path.join(paths.cacheDir, 'models', 'local-models.json');
}

function readEntries(paths: VisorPaths): LocalModelEntry[] {
  const file = localModelsFile(paths);
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    return [];
  }
  try {
    const parsed = JSON.parse(text) as LocalModelsFile;
    if (parsed.version !== 1 || !Array.isArray(parsed.models)) throw new Error('unknown layout');
    return parsed.models;
  } catch (e) {
    throw new VisorError('MODEL_NOT_FOUND', `${file} is damaged (${errorMessage(e)}); remove it and add the models again`);
  }
}

function writeEntries(paths: VisorPaths, models: LocalModelEntry[]): void {
  const file = localModelsFile(paths);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  // Written beside and renamed over, so a crash never leaves half a file.
  const tmp = `${file}.${randomBytes(6).toString('hex')}.tmp`;
  fs.writeFileSync(tmp, `${JSON.stringify({ version: 1, models } satisfies LocalModelsFile, null, 2)}\n`);
  fs.renameSync(tmp, file);
}

function toSpec(e: LocalModelEntry): ModelSpec {
  return {
    id: e.id,
    title: `Local model from ${e.folder}`,
    task: 'image and text embeddings in one space (added from a local folder)',
    licence: 'see the model folder',
    homepage: pathToFileURL(e.folder).href,
    format: e.format,
    folder: e.folder,
    files: e.files.map((f) => ({ ...f, url: pathToFileURL(path.join(e.folder, f.name)).href })),
  };
}

export function listLocalModels(paths: VisorPaths = resolvePaths()): ModelSpec[] {
  return readEntries(paths).map(toSpec);
}

/** Built-in models, then the ones added from folders. */
export function listAllModels(paths: VisorPaths = resolvePaths()): ModelSpec[] {
  return [...listModels(), ...listLocalModels(paths)];
}

/** A built-in or added model by id. */
export function findAnyModel(id: string, paths: VisorPaths = resolvePaths()): ModelSpec | undefined {
  return findModel(id) ?? listLocalModels(paths).find((m) => m.id === id);
}

/** A folder's name made into an id: lower case letters, digits, '.', '-' and '_'. */
export function idFromFolder(folder: string): string {
  return path
    .basename(path.resolve(folder))
    .toLowerCase()
    .replace(/[^a-z0-9._-]+/g, '-')
    .replace(/^[-.]+|-+$/g, '');
}

export interface AddLocalModelOptions {
  /** Id to register it under (default: from the folder's name). */
  id?: string;
  /** Precision of the ONNX towers when the folder holds several (see ClipLoadOptions.variant). */
  variant?: string;
  paths?: VisorPaths;
  /** Load the model and embed a probe image and text before recording it (default true). */
  check?: boolean;
}

export interface AddedModel {
  spec: ModelSpec;
  /** Embedding size, when the model was checked. */
  dimension?: number;
  /** Why texts cannot be embedded with it, when they cannot (the model still indexes images). */
  noText?: string;
}

/** Loads the model from its folder and embeds a small image and a text, as indexing and search will. */
async function probe(folder: string, id: string, variant: string | undefined): Promise<{ dimension: number; noText?: string }> {
  const [{ ClipModel }, { default: sharp }] = await Promise.all([import('./clip/clip-model.js'), import('sharp')]);
  const model = await ClipModel.load(folder, { id, variant, threads: 1 });
  try {
    const image = await sharp({ create: { width: 64, height: 48, channels: 3, background: { r: 200, g: 120, b: 40 } } })
      .png()
      .toBuffer();
    await model.encodeImages([image]);
    if (!model.hasText) return { dimension: model.dimension, noText: model.textUnavailableReason ?? 'no text tower' };
    await model.encodeText(['a photo of a dog']);
    return { dimension: model.dimension };
  } finally {
    await model.close();
  }
}

/**
 * Records a model folder in the Hugging Face ONNX layout under an id, with its files' sizes
 * and sha256. Adding the same id again replaces the record.
 */
export async function addLocalModel(folder: string, opts: AddLocalModelOptions = {}): Promise<AddedModel> {
  const paths = opts.paths ?? resolvePaths();
  const abs = path.resolve(folder);
  const id = opts.id ?? idFromFolder(abs);
  if (!/^[a-z0-9][a-z0-9._-]*$/.test(id)) {
    throw new VisorError('QUERY_INVALID', `model id ${JSON.stringify(id)} must be lower-case letters, digits, '.', '-' or '_'`);
  }
  if (findModel(id)) throw new VisorError('QUERY_INVALID', `${id} is a built-in model; choose another id with --id`);
  const names = scanHfOnnxFolder(abs, opts.variant);
  const checked = opts.check === false ? {} : await probe(abs, id, opts.variant);
  const files = [];
  for (const name of names) {
    const p = path.join(abs, name);
    files.push({ name, size: fs.statSync(p).size, sha256: await sha256File(p) });
  }
  const entry: LocalModelEntry = { id, format: 'hf-onnx', folder: abs, files, addedAt: new Date().toISOString() };
  writeEntries(paths, [...readEntries(paths).filter((m) => m.id !== id), entry]);
  return { spec: toSpec(entry), ...checked };
}
