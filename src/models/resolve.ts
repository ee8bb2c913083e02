import fs from 'node:fs';
import path from 'node:path';
import { resolvePaths, type VisorPaths } from '../config.js';
import { VisorError } from '../errors.js';
import { downloadVerified, type DownloadProgress } from './download.js';
import type { ModelFileSpec, ModelSpec } from './registry.js';

export interface ResolveOptions {
  paths?: VisorPaths;
  /** Fetch missing files (default: true unless offline). */
  download?: boolean;
  /** `url` is where the file is fetched from (the upstream URL, or its mirror). */
  onDownloadStart?: (file: ModelFileSpec, url: string) => void;
  onDownloadProgress?: (file: ModelFileSpec, p: DownloadProgress) => void;
}

export type ResolvedModel = Record<string, string>;

export type FileLocation = { state: 'found'; path: string; where: 'models-path' | 'cache' | 'folder' } | { state: 'missing'; cachePath: string };

export function modelCacheDir(spec: ModelSpec, paths: VisorPaths): string {
  return path.join(paths.cacheDir, 'models', spec.id);
}

/** Where a file is fetched from: its upstream URL, or the same path under VISOR_MODEL_BASE_URL. */
export function downloadUrl(file: ModelFileSpec, paths: VisorPaths): string {
  if (!paths.modelBaseUrl) return file.url;
  const upstream = new URL(file.url);
  return `${paths.modelBaseUrl.replace(/\/+$/, '')}${upstream.pathname}${upstream.search}`;
}

function candidates(spec: ModelSpec, file: ModelFileSpec, paths: VisorPaths): Array<{ p: string; where: 'models-path' | 'cache' | 'folder' }> {
  // A model added from a folder lives there and nowhere else.
  if (spec.folder) return [{ p: path.join(spec.folder, file.name), where: 'folder' }];
  const list: Array<{ p: string; where: 'models-path' | 'cache' | 'folder' }> = [];
  for (const dir of paths.modelsPath) {
    list.push({ p: path.join(dir, spec.id, file.name), where: 'models-path' });
    // Loose files are only looked for by distinctive names: config.json or tokenizer.json
    // at the top of a models folder could belong to any model.
    if (!spec.format) list.push({ p: path.join(dir, file.name), where: 'models-path' });
  }
  list.push({ p: path.join(modelCacheDir(spec, paths), file.name), where: 'cache' });
  return list;
}

/**
 * Looks for one file of a model, in the models search path first, then the cache. A file of
 * the wrong size is an error rather than skipped: silently using another model is worse.
 */
export function locateModelFile(spec: ModelSpec, file: ModelFileSpec, paths: VisorPaths): FileLocation {
  for (const { p, where } of candidates(spec, file, paths)) {
    let st: fs.Stats;
    try {
      st = fs.statSync(p);
    } catch {
      continue;
    }
    if (!st.isFile()) continue;
    if (st.size !== file.size) {
      throw new VisorError(
        'MODEL_SIZE_MISMATCH',
        `${p} is ${st.size} bytes but ${spec.id}/${file.name} should be ${file.size}; remove it or fix VISOR_MODELS_PATH`,
      );
    }
    return { state: 'found', path: p, where };
  }
  return { state: 'missing', cachePath: path.join(modelCacheDir(spec, paths), file.name) };
}

/** Absolute paths of every file of `spec`, downloading (and verifying) what is missing. */
export async function resolveModel(spec: ModelSpec, opts: ResolveOptions = {}): Promise<ResolvedModel> {
  const paths = opts.paths ?? resolvePaths();
  const allowDownload = opts.download ?? !paths.offline;
  const out: ResolvedModel = {};
  for (const file of spec.files) {
    const loc = locateModelFile(spec, file, paths);
    if (loc.state === 'found') {
      out[file.name] = loc.path;
      continue;
    }
    if (spec.folder) {
      throw new VisorError('MODEL_NOT_FOUND', `${spec.id}/${file.name} is no longer in ${spec.folder}; add the model again with 'visor models add'`);
    }
    if (!allowDownload) {
      const searched = [...paths.modelsPath, modelCacheDir(spec, paths)].join(', ');
      throw new VisorError(
        'MODEL_NOT_FOUND',
        `model file ${spec.id}/${file.name} not found (searched: ${searched}) and downloads are off; ` +
          `set VISOR_MODELS_PATH to a folder holding ${spec.id}/, or run 'visor models pull ${spec.id}' with network access`,
      );
    }
    const url = downloadUrl(file, paths);
    opts.onDownloadStart?.(file, url);
    await downloadVerified({
      url,
      dest: loc.cachePath,
      sha256: file.sha256,
      size: file.convert ? undefined : file.size,
      convert: file.convert,
      onProgress: (p) => opts.onDownloadProgress?.(file, p),
    });
    out[file.name] = loc.cachePath;
  }
  return out;
}

/** Where trained joint models are kept when given by name: `<cacheDir>/models/joint/`. */
export function jointModelsDir(paths: VisorPaths): string {
  return path.join(paths.cacheDir, 'models', 'joint');
}

/**
 * A trained joint model (`.joint` file) by path or by name. A name is looked up like the
 * registry's models: in the models search path (`<dir>/<name>.joint`, `<dir>/joint/<name>.joint`),
 * then in the per-user cache. These files are made by `visor-lab train joint`, so there is no
 * upstream to download from; their sha256 is printed when they are saved.
 */
export function resolveJointModel(ref: string, paths: VisorPaths = resolvePaths()): string {
  const tries: string[] = [path.resolve(ref)];
  if (!ref.includes('/') && !ref.includes(path.sep)) {
    const file = ref.endsWith('.joint') ? ref : `${ref}.joint`;
    for (const dir of paths.modelsPath) tries.push(path.join(dir, file), path.join(dir, 'joint', file));
    tries.push(path.join(jointModelsDir(paths), file));
  }
  for (const p of tries) {
    try {
      if (fs.statSync(p).isFile()) return p;
    } catch {
      // not there: try the next place
    }
  }
  throw new VisorError(
    'MODEL_NOT_FOUND',
    `joint model ${JSON.stringify(ref)} not found (looked in: ${tries.join(', ')}); train one with 'visor-lab train joint' or give its path`,
  );
}
