import os from 'node:os';
import path from 'node:path';

/**
 * Where Visor looks for things. Every value can be set by an environment variable so that
 * tests, CI and users configure it the same way; library callers may override per call.
 */
export interface VisorPaths {
  /** Directories searched for model files before the cache (VISOR_MODELS_PATH, ':'-separated). */
  modelsPath: string[];
  /** Per-user cache for downloaded models (VISOR_CACHE_DIR, else $XDG_CACHE_HOME/visor). */
  cacheDir: string;
  /** Default index location (VISOR_DB, else $XDG_DATA_HOME/visor/index). */
  defaultDb: string;
  /** Directories searched for evaluation data sets (VISOR_DATASETS_PATH, ':'-separated). */
  datasetsPath: string[];
  /** Never touch the network (VISOR_OFFLINE=1). */
  offline: boolean;
}

function splitPathList(value: string | undefined): string[] {
  if (!value) return [];
  return value
    .split(path.delimiter)
    .map((p) => p.trim())
    .filter((p) => p.length > 0)
    .map((p) => path.resolve(p));
}

function xdg(name: 'XDG_CACHE_HOME' | 'XDG_DATA_HOME', fallback: string): string {
  const v = process.env[name];
  return v && path.isAbsolute(v) ? v : path.join(os.homedir(), fallback);
}

export function resolvePaths(env: NodeJS.ProcessEnv = process.env): VisorPaths {
  return {
    modelsPath: splitPathList(env.VISOR_MODELS_PATH),
    cacheDir: env.VISOR_CACHE_DIR ? path.resolve(env.VISOR_CACHE_DIR) : path.join(xdg('XDG_CACHE_HOME', '.cache'), 'visor'),
    defaultDb: env.VISOR_DB ? path.resolve(env.VISOR_DB) : path.join(xdg('XDG_DATA_HOME', '.local/share'), 'visor', 'index'),
    datasetsPath: splitPathList(env.VISOR_DATASETS_PATH),
    offline: env.VISOR_OFFLINE === '1' || env.VISOR_OFFLINE === 'true',
  };
}
