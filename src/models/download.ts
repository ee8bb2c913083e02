import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { VisorError } from '../errors.js';

export interface DownloadProgress {
  received: number;
  total: number | null;
}

export interface DownloadRequest {
  url: string;
  /** Final absolute path of the file. */
  dest: string;
  /** Expected lowercase hex digest. */
  sha256: string;
  /** Expected size in bytes, if known. */
  size?: number;
  onProgress?: (p: DownloadProgress) => void;
  signal?: AbortSignal;
  /** Abort if no bytes arrive for this long (default 30 000 ms). */
  timeoutMs?: number;
  /** Turns the fetched bytes into the file to keep; `sha256` then applies to the result. */
  convert?: (fetched: Buffer) => Buffer;
}

const PROGRESS_INTERVAL_MS = 100;

/** The sha256 of a file as lowercase hex, read as a stream. */
export async function sha256File(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of fs.createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/**
 * Downloads `url` to `dest`, verifying status, length and sha256 before the file appears.
 * Bytes go to a temporary file beside `dest` that is renamed over it only once verified, so
 * on any failure `dest` is exactly as it was before and nothing else is left behind.
 */
export async function downloadVerified(req: DownloadRequest): Promise<void> {
  const { url, dest, signal } = req;
  const timeoutMs = req.timeoutMs ?? 30_000;
  const expectedSha = req.sha256.toLowerCase();

  if (signal?.aborted) {
    throw new VisorError('DOWNLOAD_INTERRUPTED', `Download of ${url} was aborted before it started`, { cause: signal.reason });
  }
  // The first folder this call creates, if any: removed again (when empty) if the download fails.
  const createdDir = await fsp.mkdir(path.dirname(dest), { recursive: true });

  // One controller covers the caller's signal and the idle timer; aborting it in `finally`
  // also releases the connection when we stop early (bad status, size or an error).
  const ctrl = new AbortController();
  const onAbort = (): void => ctrl.abort(signal?.reason);
  signal?.addEventListener('abort', onAbort, { once: true });
  let timedOut = false;
  let timer: NodeJS.Timeout | undefined;
  const armIdleTimer = (): void => {
    clearTimeout(timer);
    timer = setTimeout(() => {
      timedOut = true;
      ctrl.abort(new Error(`no data for ${timeoutMs} ms`));
    }, timeoutMs);
  };

  let received = 0;
  let total: number | null = req.size ?? null;
  const interrupted = (cause: unknown, why = 'the connection failed'): VisorError => {
    if (timedOut) why = `no data arrived for ${timeoutMs} ms`;
    else if (signal?.aborted) why = 'it was aborted';
    return new VisorError('DOWNLOAD_INTERRUPTED', `Download of ${url} stopped after ${received} of ${total ?? 'unknown'} bytes because ${why}`, { cause });
  };

  let tmp: string | undefined;
  try {
    armIdleTimer();
    let res: Response;
    try {
      // identity: Content-Length must describe the bytes we count, not a compressed form.
      res = await fetch(url, { signal: ctrl.signal, headers: { 'accept-encoding': 'identity' } });
    } catch (e) {
      if (ctrl.signal.aborted) throw interrupted(e);
      throw new VisorError('DOWNLOAD_FAILED', `Could not connect to download ${url}: ${causeMessage(e)}`, { cause: e });
    }
    if (!res.ok || !res.body) {
      throw new VisorError('DOWNLOAD_FAILED', `Download of ${url} failed: HTTP ${res.status} ${res.statusText}`.trimEnd());
    }

    const encoding = res.headers.get('content-encoding');
    const lengthHeader = res.headers.get('content-length');
    const contentLength = lengthHeader !== null && (!encoding || encoding === 'identity') && /^\d+$/.test(lengthHeader) ? Number(lengthHeader) : null;
    if (req.size !== undefined && contentLength !== null && contentLength !== req.size) {
      throw new VisorError('MODEL_SIZE_MISMATCH', `Download of ${url}: server announces ${contentLength} bytes but ${req.size} were expected`);
    }
    total = req.size ?? contentLength;

    tmp = `${dest}.${randomBytes(6).toString('hex')}.part`;
    const fh = await fsp.open(tmp, 'wx');
    try {
      const hash = createHash('sha256');
      const reader = res.body.getReader();
      let lastProgress = 0;
      while (true) {
        let chunk: Awaited<ReturnType<typeof reader.read>>;
        try {
          chunk = await reader.read();
        } catch (e) {
          throw interrupted(e);
        }
        if (chunk.done) break;
        armIdleTimer();
        received += chunk.value.byteLength;
        if (req.size !== undefined && received > req.size) {
          throw new VisorError('MODEL_SIZE_MISMATCH', `Download of ${url} sent more than the expected ${req.size} bytes`);
        }
        hash.update(chunk.value);
        await fh.write(chunk.value);
        const now = Date.now();
        if (req.onProgress && now - lastProgress >= PROGRESS_INTERVAL_MS) {
          lastProgress = now;
          req.onProgress({ received, total });
        }
      }
      clearTimeout(timer);
      req.onProgress?.({ received, total });

      if (total !== null && received !== total) throw interrupted(undefined, 'the connection closed early');
      let actual = hash.digest('hex');
      if (req.convert) {
        let converted: Buffer;
        try {
          converted = req.convert(await fsp.readFile(tmp));
        } catch (e) {
          throw new VisorError('DOWNLOAD_FAILED', `Download of ${url} has unexpected content: ${causeMessage(e)}`, { cause: e });
        }
        actual = createHash('sha256').update(converted).digest('hex');
        await fh.truncate(0);
        await fh.write(converted, 0, converted.length, 0);
      }
      if (actual !== expectedSha) {
        throw new VisorError('MODEL_CHECKSUM_MISMATCH', `Checksum mismatch for ${url}: expected sha256 ${expectedSha}, got ${actual}`);
      }
      await fh.sync();
    } finally {
      await fh.close();
    }
    await fsp.rename(tmp, dest);
    tmp = undefined;
  } finally {
    clearTimeout(timer);
    signal?.removeEventListener('abort', onAbort);
    ctrl.abort();
    // Never let a cleanup error hide the real one.
    if (tmp !== undefined) await fsp.rm(tmp, { force: true }).catch(() => undefined);
    if (createdDir !== undefined && !(await exists(dest))) await removeEmptyDirs(path.dirname(dest), createdDir);
  }
}

async function exists(p: string): Promise<boolean> {
  return fsp.stat(p).then(
    () => true,
    () => false,
  );
}

/** Removes `dir` and its parents up to `top`, stopping at the first that is not empty. */
async function removeEmptyDirs(dir: string, top: string): Promise<void> {
  for (let d = dir; ; d = path.dirname(d)) {
    try {
      await fsp.rmdir(d);
    } catch {
      return;
    }
    if (d === top || path.dirname(d) === d) return;
  }
}

/** fetch() reports "fetch failed"; the useful part (ECONNREFUSED, ENOTFOUND) is in the cause. */
function causeMessage(e: unknown): string {
  const cause = e instanceof Error ? e.cause : undefined;
  if (cause instanceof Error) return (cause as NodeJS.ErrnoException).code ?? cause.message;
  return e instanceof Error ? e.message : String(e);
}
