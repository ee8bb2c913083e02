import { createHash } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { VisorError } from '../src/errors.js';
import { downloadVerified, sha256File, type DownloadProgress } from '../src/models/download.js';
import { tempDir } from './fixtures.js';

const SIZE = 300 * 1024;

/** Deterministic pseudo-random bytes (xorshift32), so the test data never changes. */
function pseudoRandom(n: number, seed = 0x9e3779b9): Buffer {
  const buf = Buffer.alloc(n);
  let x = seed >>> 0;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    buf[i] = x & 0xff;
  }
  return buf;
}

const GOOD = pseudoRandom(SIZE);
const GOOD_SHA = createHash('sha256').update(GOOD).digest('hex');
const CORRUPT = Buffer.from(GOOD);
for (const i of [10, 1000, SIZE - 1]) CORRUPT[i] = CORRUPT[i]! ^ 0xff;

function serve(req: http.IncomingMessage, res: http.ServerResponse): void {
  const headers = { 'content-type': 'application/octet-stream', 'content-length': String(SIZE) };
  switch (req.url) {
    case '/good':
      res.writeHead(200, headers).end(GOOD);
      return;
    case '/corrupt':
      res.writeHead(200, headers).end(CORRUPT);
      return;
    case '/drop':
      res.writeHead(200, headers);
      res.write(GOOD.subarray(0, SIZE / 2), () => res.socket?.destroy());
      return;
    case '/stall':
      // Headers and a few bytes, then nothing, with the connection left open.
      res.writeHead(200, headers);
      res.write(GOOD.subarray(0, 1024));
      return;
    default:
      res.writeHead(404).end('not found');
  }
}

let server: http.Server;
let base: string;

beforeAll(async () => {
  server = http.createServer(serve);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

async function codeOf(p: Promise<unknown>): Promise<string> {
  const e = await p.then(
    () => null,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(VisorError);
  return (e as VisorError).code;
}

describe('downloadVerified', () => {
  it('downloads, verifies and reports progress', async () => {
    const { dir, cleanup } = tempDir();
    try {
      const dest = path.join(dir, 'sub', 'model.onnx');
      const progress: DownloadProgress[] = [];
      await downloadVerified({ url: `${base}/good`, dest, sha256: GOOD_SHA, size: SIZE, onProgress: (p) => progress.push(p) });
      expect(fs.readFileSync(dest).equals(GOOD)).toBe(true);
      expect(await sha256File(dest)).toBe(GOOD_SHA);
      expect(progress.at(-1)).toEqual({ received: SIZE, total: SIZE });
      expect(fs.readdirSync(path.dirname(dest))).toEqual(['model.onnx']);
    } finally {
      cleanup();
    }
  });

  it('rejects a corrupt file and leaves nothing behind', async () => {
    const { dir, cleanup } = tempDir();
    try {
      const dest = path.join(dir, 'model.onnx');
      const p = downloadVerified({ url: `${base}/corrupt`, dest, sha256: GOOD_SHA });
      await expect(p).rejects.toThrow(GOOD_SHA);
      expect(await codeOf(p)).toBe('MODEL_CHECKSUM_MISMATCH');
      expect(fs.readdirSync(dir)).toEqual([]);
    } finally {
      cleanup();
    }
  });

  it('removes the folders it created for a refused file', async () => {
    const { dir, cleanup } = tempDir();
    try {
      const p = downloadVerified({ url: `${base}/corrupt`, dest: path.join(dir, 'models', 'm', 'onnx', 'model.onnx'), sha256: GOOD_SHA });
      expect(await codeOf(p)).toBe('MODEL_CHECKSUM_MISMATCH');
      expect(fs.readdirSync(dir)).toEqual([]);
      // Folders that were there before stay.
      fs.mkdirSync(path.join(dir, 'models'));
      expect(await codeOf(downloadVerified({ url: `${base}/corrupt`, dest: path.join(dir, 'models', 'm', 'x.onnx'), sha256: GOOD_SHA }))).toBe(
        'MODEL_CHECKSUM_MISMATCH',
      );
      expect(fs.readdirSync(dir, { recursive: true })).toEqual(['models']);
    } finally {
      cleanup();
    }
  });

  it('reports a connection dropped halfway as interrupted', async () => {
    const { dir, cleanup } = tempDir();
    try {
      const dest = path.join(dir, 'model.onnx');
      const p = downloadVerified({ url: `${base}/drop`, dest, sha256: GOOD_SHA });
      await expect(p).rejects.toThrow(`of ${SIZE} bytes`);
      expect(await codeOf(p)).toBe('DOWNLOAD_INTERRUPTED');
      expect(fs.readdirSync(dir)).toEqual([]);
    } finally {
      cleanup();
    }
  });

  it('reports a 404 as a failed download', async () => {
    const { dir, cleanup } = tempDir();
    try {
      const p = downloadVerified({ url: `${base}/missing`, dest: path.join(dir, 'model.onnx'), sha256: GOOD_SHA });
      await expect(p).rejects.toThrow('404');
      expect(await codeOf(p)).toBe('DOWNLOAD_FAILED');
      expect(fs.readdirSync(dir)).toEqual([]);
    } finally {
      cleanup();
    }
  });

  it('leaves an existing destination untouched when a download fails', async () => {
    const { dir, cleanup } = tempDir();
    try {
      const dest = path.join(dir, 'model.onnx');
      fs.writeFileSync(dest, 'old');
      expect(await codeOf(downloadVerified({ url: `${base}/corrupt`, dest, sha256: GOOD_SHA }))).toBe('MODEL_CHECKSUM_MISMATCH');
      expect(fs.readFileSync(dest, 'utf8')).toBe('old');
      expect(fs.readdirSync(dir)).toEqual(['model.onnx']);
    } finally {
      cleanup();
    }
  });

  it('gives up on a stalled server after timeoutMs', async () => {
    const { dir, cleanup } = tempDir();
    try {
      const started = Date.now();
      const p = downloadVerified({ url: `${base}/stall`, dest: path.join(dir, 'model.onnx'), sha256: GOOD_SHA, timeoutMs: 500 });
      expect(await codeOf(p)).toBe('DOWNLOAD_INTERRUPTED');
      expect(Date.now() - started).toBeLessThan(3000);
      expect(fs.readdirSync(dir)).toEqual([]);
    } finally {
      cleanup();
    }
  });

  it('reports an abort by the caller as interrupted', async () => {
    const { dir, cleanup } = tempDir();
    try {
      const ctrl = new AbortController();
      setTimeout(() => ctrl.abort(), 200);
      const p = downloadVerified({ url: `${base}/stall`, dest: path.join(dir, 'model.onnx'), sha256: GOOD_SHA, signal: ctrl.signal });
      expect(await codeOf(p)).toBe('DOWNLOAD_INTERRUPTED');
      expect(fs.readdirSync(dir)).toEqual([]);
    } finally {
      cleanup();
    }
  });

  it('refuses a file whose announced size is not the expected one', async () => {
    const { dir, cleanup } = tempDir();
    try {
      const p = downloadVerified({ url: `${base}/good`, dest: path.join(dir, 'model.onnx'), sha256: GOOD_SHA, size: SIZE + 1 });
      expect(await codeOf(p)).toBe('MODEL_SIZE_MISMATCH');
      expect(fs.readdirSync(dir)).toEqual([]);
    } finally {
      cleanup();
    }
  });

  it('reports a refused connection as a failed download', async () => {
    // A port that was just free on 127.0.0.1 and is closed again.
    const closed = http.createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const { dir, cleanup } = tempDir();
    try {
      const p = downloadVerified({ url: `http://127.0.0.1:${port}/good`, dest: path.join(dir, 'model.onnx'), sha256: GOOD_SHA });
      expect(await codeOf(p)).toBe('DOWNLOAD_FAILED');
      expect(fs.readdirSync(dir)).toEqual([]);
    } finally {
      cleanup();
    }
  });
});
