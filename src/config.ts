import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/**
 * Where Visor looks for things. Each value comes from, in order: an environment variable, a
 * `visor.config.json` in the working directory, a per-user default.
 */
export interface VisorPaths {
  /** Folders searched for model files before the cache (VISOR_MODELS_PATH, ':'-separated). */
  modelsPath: string[];
  /** Per-user cache for downloaded models (VISOR_CACHE_DIR, else $XDG_CACHE_HOME/visor). */
  cacheDir: string;
  /** Default index location (VISOR_DB, else $XDG_DATA_HOME/visor/index). */
  defaultDb: string;
  /** Folders searched for evaluation data sets (VISOR_DATASETS_PATH, ':'-separated). */
  datasetsPath: string[];
  /** Never touch the network (VISOR_OFFLINE=1). */
  offline: boolean;
  /**
   * Download model files from this base URL instead of their upstream hosts: the upstream
   * URL's path is appended to it (VISOR_MODEL_BASE_URL; a mirror, or a test server).
   */
  modelBaseUrl?: string;
  /** How to reach an S3-compatible store for `--db s3://…` (config `s3`, overridden by AWS_* variables). */
  s3?: S3Settings;
  /** NATS server for distributed ingest and leases (VISOR_QUEUE, e.g. nats://127.0.0.1:4222). */
  queue?: string;
}

/** The keys a `visor.config.json` may set; relative paths are relative to the file. */
export interface ConfigFile {
  modelsPath?: string[];
  datasetsPath?: string[];
  cacheDir?: string;
  db?: string;
  offline?: boolean;
  modelBaseUrl?: string;
  s3?: Partial<S3Settings>;
  queue?: string;
}

export const CONFIG_FILE = 'visor.config.json';

/** How to reach an S3-compatible store; from visor.config.json's `s3`, else the usual AWS_* variables. */
export interface S3Settings {
  /** e.g. http://127.0.0.1:7480 (Ceph's gateway); undefined: AWS itself. */
  endpoint?: string;
  region: string;
  accessKeyId?: string;
  secretAccessKey?: string;
  /** Plain http endpoints (default: allowed when the endpoint is http://). */
  allowHttp: boolean;
  /** Bucket in the host name (AWS style) rather than the path (default false: path style, what Ceph and MinIO expect). */
  virtualHosted: boolean;
}

export function isRemoteDb(db: string): boolean {
  return /^s3:\/\//i.test(db);
}

/** S3 settings from the config file's `s3` block, overridden by the environment. */
export function s3Settings(file: Partial<S3Settings> = {}, env: NodeJS.ProcessEnv = process.env): S3Settings {
  const endpoint = env.AWS_ENDPOINT_URL_S3 || env.AWS_ENDPOINT_URL || file.endpoint || undefined;
  const allowHttpEnv = env.AWS_ALLOW_HTTP;
  return {
    endpoint,
    region: env.AWS_REGION || env.AWS_DEFAULT_REGION || file.region || 'us-east-1',
    accessKeyId: env.AWS_ACCESS_KEY_ID || file.accessKeyId || undefined,
    secretAccessKey: env.AWS_SECRET_ACCESS_KEY || file.secretAccessKey || undefined,
    allowHttp: allowHttpEnv !== undefined ? allowHttpEnv === '1' || allowHttpEnv === 'true' : (file.allowHttp ?? endpoint?.startsWith('http://') ?? false),
    virtualHosted: file.virtualHosted ?? false,
  };
}

function splitPathList(value: string | undefined): string[] | undefined {
  if (!value) return undefined;
  return value
    .split(path.delimiter)
    .map((p) => p.trim())
    .filter((p) => p.length > 0)
    .map((p) => path.resolve(p));
}

function xdg(name: 'XDG_CACHE_HOME' | 'XDG_DATA_HOME', fallback: string, env: NodeJS.ProcessEnv): string {
  const v = env[name];
  return v && path.isAbsolute(v) ? v : path.join(os.homedir(), fallback);
}

export function readConfigFile(dir: string): ConfigFile {
  const file = path.join(dir, CONFIG_FILE);
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    return {};
  }
  let raw: ConfigFile;
  try {
    raw = JSON.parse(text) as ConfigFile;
  } catch (e) {
    throw new Error(`${file}: not valid JSON (${(e as Error).message})`);
  }
  const abs = (p: string) => path.resolve(dir, p);
  return {
    modelsPath: raw.modelsPath?.map(abs),
    datasetsPath: raw.datasetsPath?.map(abs),
    cacheDir: raw.cacheDir ? abs(raw.cacheDir) : undefined,
    db: raw.db ? (isRemoteDb(raw.db) ? raw.db : abs(raw.db)) : undefined,
    offline: raw.offline,
    modelBaseUrl: raw.modelBaseUrl,
    s3: raw.s3,
    queue: raw.queue,
  };
}

export function resolvePaths(env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): VisorPaths {
  const file = readConfigFile(cwd);
  const offlineEnv = env.VISOR_OFFLINE;
  return {
    modelsPath: splitPathList(env.VISOR_MODELS_PATH) ?? file.modelsPath ?? [],
    cacheDir: env.VISOR_CACHE_DIR ? path.resolve(env.VISOR_CACHE_DIR) : (file.cacheDir ?? path.join(xdg('XDG_CACHE_HOME', '.cache', env), 'visor')),
    defaultDb: env.VISOR_DB
      ? isRemoteDb(env.VISOR_DB)
        ? env.VISOR_DB
        : path.resolve(env.VISOR_DB)
      : (file.db ?? path.join(xdg('XDG_DATA_HOME', '.local/share', env), 'visor', 'index')),
    datasetsPath: splitPathList(env.VISOR_DATASETS_PATH) ?? file.datasetsPath ?? [],
    offline: offlineEnv !== undefined ? offlineEnv === '1' || offlineEnv === 'true' : (file.offline ?? false),
    modelBaseUrl: env.VISOR_MODEL_BASE_URL || file.modelBaseUrl || undefined,
    s3: s3Settings(file.s3, env),
    queue: env.VISOR_QUEUE || file.queue || undefined,
  };
}
