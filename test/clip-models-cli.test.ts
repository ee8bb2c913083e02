import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLIP_VIT_B32, MOBILENET_V2_INT8 } from '../src/models/registry.js';
import { CLI, CLIP_TOKENIZER_DIR, MODELS_DIR, XENOVA_CLIP_PREPROCESSOR, flickrTestImages, tempDir } from './fixtures.js';
import { writeTinyClipFolder } from './tiny-clip.js';

/** Runs the built CLI (asynchronously: the test's own HTTP server must keep answering). */
function visor(args: string[], env: Record<string, string>, cwd: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], { cwd, env: { ...process.env, ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

/** Every file under `dir`, relative, sorted ([] when it does not exist). */
function filesUnder(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => path.relative(dir, path.join(e.parentPath, e.name)))
    .sort();
}

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const upstreamPath = (url: string) => new URL(url).pathname;
const clipFile = (name: string) => CLIP_VIT_B32.files.find((f) => f.name === name)!;

/**
 * A stand-in for the upstream hosts, serving each file at its upstream path: MobileNetV2's
 * real files from ../shared (the class index in Keras' upstream layout), CLIP's configs and
 * tokenizer as published (Xenova's preprocessor_config.json layout, the full tokenizer.json),
 * and for CLIP's vision tower 89,117,001 bytes that are not the model.
 */
function upstream(mode: { corruptPreprocessor: boolean }) {
  const labels = JSON.parse(fs.readFileSync(path.join(MODELS_DIR, 'mobilenetv2-12-int8', 'imagenet_labels.json'), 'utf8')) as Array<[string, string]>;
  const files = new Map<string, Buffer>([
    [upstreamPath(MOBILENET_V2_INT8.files[0]!.url), fs.readFileSync(path.join(MODELS_DIR, 'mobilenetv2-12-int8', 'mobilenetv2-12-int8.onnx'))],
    [upstreamPath(MOBILENET_V2_INT8.files[1]!.url), Buffer.from(JSON.stringify(Object.fromEntries(labels.map((l, i) => [String(i), l]))))],
    [upstreamPath(clipFile('preprocessor_config.json').url), Buffer.from(`${JSON.stringify(XENOVA_CLIP_PREPROCESSOR, null, 2)}\n`)],
    [upstreamPath(clipFile('config.json').url), fs.readFileSync(path.join(CLIP_TOKENIZER_DIR, 'config.json'))],
    [upstreamPath(clipFile('tokenizer.json').url), fs.readFileSync(path.join(CLIP_TOKENIZER_DIR, 'tokenizer.json'))],
  ]);
  const vision = clipFile('onnx/vision_model_quantized.onnx');
  return (req: http.IncomingMessage, res: http.ServerResponse): void => {
    const p = new URL(req.url ?? '/', 'http://x').pathname;
    if (p === upstreamPath(vision.url)) {
      // The right length, the wrong bytes, streamed.
      res.writeHead(200, { 'content-length': String(vision.size) });
      const chunk = Buffer.alloc(1 << 20);
      let left = vision.size;
      const pump = (): void => {
        while (left > 0) {
          const n = Math.min(left, chunk.length);
          left -= n;
          if (!res.write(chunk.subarray(0, n))) return void res.once('drain', pump);
        }
        res.end();
      };
      pump();
      return;
    }
    let body = files.get(p);
    if (body && mode.corruptPreprocessor && p === upstreamPath(clipFile('preprocessor_config.json').url)) {
      // A tampered config: other normalisation constants.
      body = Buffer.from(body.toString().replace('0.48145466', '0.5'));
    }
    if (!body) return void res.writeHead(404).end('not found');
    res.writeHead(200, { 'content-length': String(body.length) }).end(body);
  };
}

describe('visor models: verified downloads from a mirror (VISOR_MODEL_BASE_URL), local folders', () => {
  const tmp = tempDir('visor-models-cli-');
  const mode = { corruptPreprocessor: false };
  let server: http.Server;
  let env: Record<string, string>;
  const cache = path.join(tmp.dir, 'cache');
  // A working directory without visor.config.json, so nothing is found in ../shared.
  const cwd = path.join(tmp.dir, 'work');

  beforeAll(async () => {
    fs.mkdirSync(cwd);
    const serve = upstream(mode);
    // The mirror serves the upstream paths under /mirror.
    server = http.createServer((req, res) => {
      if (!req.url?.startsWith('/mirror/')) return void res.writeHead(404).end();
      req.url = req.url.slice('/mirror'.length);
      serve(req, res);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/mirror`;
    env = { VISOR_MODEL_BASE_URL: base, VISOR_CACHE_DIR: cache, VISOR_OFFLINE: '0', VISOR_MODELS_PATH: '' };
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    tmp.cleanup();
  });

  it('pulls a model from the mirror, verified, with progress, and `verify` agrees', async () => {
    const pull = await visor(['models', 'pull', 'mobilenetv2-12-int8', '--json'], env, cwd);
    expect(pull.code, pull.stderr).toBe(0);
    expect(pull.stderr).toContain(`downloading mobilenetv2-12-int8.onnx from ${env.VISOR_MODEL_BASE_URL}/onnx/models/raw/main/`);
    expect(pull.stderr).toContain('[mobilenetv2-12-int8.onnx] 3655033/3655033 bytes');
    const dir = path.join(cache, 'models', 'mobilenetv2-12-int8');
    expect(filesUnder(dir)).toEqual(['imagenet_labels.json', 'mobilenetv2-12-int8.onnx']);
    for (const f of MOBILENET_V2_INT8.files) expect(sha256(fs.readFileSync(path.join(dir, f.name)))).toBe(f.sha256);
    const verify = await visor(['models', 'verify', 'mobilenetv2-12-int8', '--json'], env, cwd);
    expect(verify.code).toBe(0);
    expect(JSON.parse(verify.stdout).map((r: { ok: boolean }) => r.ok)).toEqual([true, true]);
  });

  it('refuses a file whose sha256 differs and leaves nothing behind', async () => {
    mode.corruptPreprocessor = true;
    try {
      const before = filesUnder(cache);
      const pull = await visor(['models', 'pull', 'clip-vit-b32', '--json'], env, cwd);
      expect(pull.code).toBe(1);
      const { error } = JSON.parse(pull.stdout);
      expect(error.code).toBe('MODEL_CHECKSUM_MISMATCH');
      expect(error.message).toContain(clipFile('preprocessor_config.json').sha256);
      expect(filesUnder(cache)).toEqual(before);
      expect(fs.existsSync(path.join(cache, 'models', 'clip-vit-b32'))).toBe(false);
    } finally {
      mode.corruptPreprocessor = false;
    }
  });

  it('keeps the verified files and refuses a tower with the right size but the wrong bytes', async () => {
    const pull = await visor(['models', 'pull', 'clip-vit-b32', '--json'], env, cwd);
    expect(pull.code).toBe(1);
    const { error } = JSON.parse(pull.stdout);
    expect(error.code).toBe('MODEL_CHECKSUM_MISMATCH');
    expect(error.message).toContain('onnx/vision_model_quantized.onnx');
    // The JSON files, as published, were verified (in Visor's canonical form) and kept;
    // nothing of the refused 89 MB file remains, not even its folder.
    expect(filesUnder(path.join(cache, 'models', 'clip-vit-b32'))).toEqual(['config.json', 'preprocessor_config.json', 'tokenizer.json']);
    for (const name of ['config.json', 'preprocessor_config.json', 'tokenizer.json']) {
      expect(sha256(fs.readFileSync(path.join(cache, 'models', 'clip-vit-b32', name)))).toBe(clipFile(name).sha256);
    }
    const list = await visor(['models', 'list', '--json'], env, cwd);
    const clip = JSON.parse(list.stdout).find((m: { id: string }) => m.id === 'clip-vit-b32');
    expect(clip.files.map((f: { state: string }) => f.state)).toEqual(['found', 'found', 'found', 'missing', 'missing']);
  });

  it('visor index --model fetches the model first and, refused, creates no index and keeps nothing of the bad file', async () => {
    const photos = path.join(tmp.dir, 'photos');
    fs.mkdirSync(photos);
    for (const f of flickrTestImages(2)) fs.copyFileSync(f, path.join(photos, path.basename(f)));
    const db = path.join(tmp.dir, 'index-db');
    const idx = await visor(['--db', db, '--json', 'index', photos, '--model', 'clip-vit-b32', '--progress', 'none'], env, cwd);
    expect(idx.code).toBe(1);
    expect(JSON.parse(idx.stdout).error).toMatchObject({
      code: 'MODEL_CHECKSUM_MISMATCH',
      message: expect.stringContaining(clipFile('onnx/vision_model_quantized.onnx').sha256),
    });
    expect(idx.stderr).toContain(`downloading onnx/vision_model_quantized.onnx from ${env.VISOR_MODEL_BASE_URL}/Xenova/clip-vit-base-patch32/resolve/`);
    expect(fs.existsSync(db)).toBe(false);
    expect(filesUnder(path.join(cache, 'models', 'clip-vit-b32'))).toEqual(['config.json', 'preprocessor_config.json', 'tokenizer.json']);
  });

  it('adds a local model folder, lists it and verifies its files', async () => {
    const folder = writeTinyClipFolder(path.join(tmp.dir, 'My SigLIP'));
    const add = await visor(['models', 'add', folder, '--format', 'hf-onnx', '--json'], env, cwd);
    expect(add.code, add.stderr + add.stdout).toBe(0);
    const added = JSON.parse(add.stdout);
    expect(added).toMatchObject({ id: 'my-siglip', folder, dimension: 512, text: true });
    expect(added.files.map((f: { name: string }) => f.name)).toEqual([
      'preprocessor_config.json',
      'config.json',
      'tokenizer.json',
      'onnx/vision_model_quantized.onnx',
      'onnx/text_model_quantized.onnx',
    ]);
    const list = JSON.parse((await visor(['models', 'list', '--json'], env, cwd)).stdout);
    expect(list.find((m: { id: string }) => m.id === 'my-siglip')).toMatchObject({
      folder,
      files: expect.arrayContaining([expect.objectContaining({ state: 'found' })]),
    });
    expect((await visor(['models', 'verify', 'my-siglip'], env, cwd)).code).toBe(0);

    fs.appendFileSync(path.join(folder, 'config.json'), ' ');
    const changed = await visor(['models', 'verify', 'my-siglip', '--json'], env, cwd);
    expect(changed.code).toBe(1);
    expect(
      JSON.parse(changed.stdout)
        .filter((r: { ok: boolean }) => !r.ok)
        .map((r: { file: string }) => r.file),
    ).toEqual(['config.json']);

    const wrong = await visor(['models', 'add', path.join(tmp.dir, 'nowhere'), '--format', 'hf-onnx'], env, cwd);
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toMatch(/is not a folder/);
    const builtIn = await visor(['models', 'add', folder, '--format', 'hf-onnx', '--id', 'clip-vit-b32'], env, cwd);
    expect(builtIn.code).toBe(2);
    expect(builtIn.stderr).toMatch(/built-in model/);
  });
});
