import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import type { ItemWithVectors } from '../src/store/port.js';

/** Paths into ../shared, which tests read and never modify. */
export const ROOT = path.resolve(import.meta.dirname, '..');
/** The built CLI: CLI tests run what `npm run build` made, as a user would. */
export const CLI = path.join(ROOT, 'dist', 'src', 'cli', 'main.js');
/** The built lab CLI (`visor-lab`: eval and train). */
export const LAB_CLI = path.join(ROOT, 'dist', 'lab', 'cli', 'main.js');
export const SHARED = path.resolve(import.meta.dirname, '..', '..', 'shared');
export const MODELS_DIR = path.join(SHARED, 'models');
/** CLIP ViT-B/32's tokenizer and configs (no weights). */
export const CLIP_TOKENIZER_DIR = path.join(MODELS_DIR, 'clip-vit-b32-tokenizer');
/** Xenova/clip-vit-base-patch32's preprocessor_config.json as published upstream (520 B). */
export const XENOVA_CLIP_PREPROCESSOR = {
  crop_size: { height: 224, width: 224 },
  do_center_crop: true,
  do_convert_rgb: true,
  do_normalize: true,
  do_rescale: true,
  do_resize: true,
  feature_extractor_type: 'CLIPFeatureExtractor',
  image_mean: [0.48145466, 0.4578275, 0.40821073],
  image_processor_type: 'CLIPFeatureExtractor',
  image_std: [0.26862954, 0.26130258, 0.27577711],
  resample: 3,
  rescale_factor: 0.00392156862745098,
  size: { shortest_edge: 224 },
};
export const FLICKR_TEST_IMAGES = path.join(SHARED, 'datasets', 'flickr8k-test1k', 'images');
export const FLICKR_TRAIN_IMAGES = path.join(SHARED, 'datasets', 'flickr8k-trainval', 'images');
export const CIFAR_DIR = path.join(SHARED, 'datasets', 'cifar10-test');

/** The first `n` Flickr8k test images, in a stable (sorted) order. */
export function flickrTestImages(n: number): string[] {
  return fs
    .readdirSync(FLICKR_TEST_IMAGES)
    .filter((f) => f.endsWith('.jpg'))
    .sort()
    .slice(0, n)
    .map((f) => path.join(FLICKR_TEST_IMAGES, f));
}

/** Copies the first `n` Flickr8k test images into `dir` (created); returns the copies' paths. */
export function copyFlickrTestImages(n: number, dir: string): string[] {
  fs.mkdirSync(dir, { recursive: true });
  return flickrTestImages(n).map((f) => {
    const dest = path.join(dir, path.basename(f));
    fs.copyFileSync(f, dest);
    return dest;
  });
}

/** A fresh temporary directory, removed by the returned cleanup function. */
export function tempDir(prefix = 'visor-test-'): { dir: string; cleanup: () => void } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  return { dir, cleanup: () => fs.rmSync(dir, { recursive: true, force: true }) };
}

function pngChunk(type: string, data: Buffer): Buffer {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(zlib.crc32(body) >>> 0);
  return Buffer.concat([len, body, crc]);
}

/**
 * A PNG whose header claims width×height RGB pixels, followed by an IDAT of `zeroBytes` deflated
 * zeros: valid zlib data, far too little for a large header's size (a decompression bomb's shape).
 */
export function pngWithHeader(width: number, height: number, zeroBytes = 16): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 2; // colour type: RGB; compression, filter and interlace stay 0
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    pngChunk('IHDR', ihdr),
    pngChunk('IDAT', zlib.deflateSync(Buffer.alloc(zeroBytes))),
    pngChunk('IEND', Buffer.alloc(0)),
  ]);
}

/** A few hundred bytes that claim a 30000×30000 RGB image (900 MP): a decompression bomb's header. */
export function bombPng(): Buffer {
  return pngWithHeader(30_000, 30_000, 4096);
}

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs `visor <args>` from the repository root; `env` is added to this process's environment.
 * A run that hangs is killed after `timeout` ms (default 3 min) and fails its test.
 */
export function visor(args: string[], opts: { env?: Record<string, string>; timeout?: number } = {}): CliResult {
  return run(CLI, args, opts);
}

/** Runs `visor-lab <args>` (eval, train) like `visor` above. */
export function visorLab(args: string[], opts: { env?: Record<string, string>; timeout?: number } = {}): CliResult {
  return run(LAB_CLI, args, opts);
}

function run(cli: string, args: string[], opts: { env?: Record<string, string>; timeout?: number }): CliResult {
  const r = spawnSync(process.execPath, [cli, ...args], { cwd: ROOT, env: { ...process.env, ...opts.env }, encoding: 'utf8', timeout: opts.timeout ?? 180_000 });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** Deterministic pseudo-random numbers in [0, 1) (a linear congruential generator): the same seed, the same vectors. */
export function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

/** A pseudo-random unit vector of `dim` values drawn from `r`. */
export function randomUnit(r: () => number, dim: number): Float32Array {
  const v = Float32Array.from({ length: dim }, () => r() - 0.5);
  const n = Math.hypot(...v);
  return v.map((x) => x / n);
}

/** An item of vectors alone (no image behind it), for store and graph tests. */
export function vectorItem(id: string, file: string, vector: Float32Array): ItemWithVectors {
  return {
    id,
    path: file,
    paths: [file],
    fileSizes: [1],
    fileMtimes: [1],
    width: 1,
    height: 1,
    format: 'jpeg',
    indexedAt: 1,
    meta: {},
    vector,
    probs: new Float32Array(0),
  };
}
