import { createHash } from 'node:crypto';
import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';
import fs from 'node:fs/promises';
import { errorMessage } from '../errors.js';

export const DEFAULT_MAX_FILE_BYTES = 256 * 1024 * 1024;

/** Content id: the first 128 bits of the file's sha256, as hex. */
export function contentId(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex').slice(0, 32);
}

export function describeReadFailure(e: unknown): string {
  const code = (e as NodeJS.ErrnoException).code;
  if (code === 'EACCES' || code === 'EPERM') return 'permission denied';
  if (code === 'ENOENT') return 'file vanished before it could be read';
  if (code === 'EISDIR') return 'is a folder';
  if (code === 'EIO') return 'I/O error reading the file';
  return `cannot read file (${errorMessage(e)})`;
}

/**
 * Files up to this size are read synchronously: an async readFile is four trips through
 * libuv's thread pool (open, stat, read, close), which for a photo-sized file costs more CPU
 * than the read, and the pool's threads are busy decoding.
 */
const SYNC_READ_BYTES = 1 << 20;

/** Reads a small regular file in one go; non-blocking open, so a FIFO swapped in cannot hang us. */
function readSmall(file: string): Buffer {
  const fd = openSync(file, constants.O_RDONLY | constants.O_NONBLOCK);
  try {
    const st = fstatSync(fd);
    if (st.isDirectory()) throw Object.assign(new Error('is a folder'), { code: 'EISDIR' });
    if (!st.isFile()) throw new Error('not a regular file');
    // Its own ArrayBuffer (not the shared pool), so it can be handed to a worker without a copy.
    const buf = Buffer.allocUnsafeSlow(st.size);
    let n = 0;
    while (n < buf.length) {
      const r = readSync(fd, buf, n, buf.length - n, null);
      if (r === 0) break;
      n += r;
    }
    return n === buf.length ? buf : buf.subarray(0, n);
  } finally {
    closeSync(fd);
  }
}

export type ReadOutcome = { kind: 'failed'; reason: string } | { kind: 'read'; id: string; bytes: Buffer };

/** Reads and hashes one file. Never throws: a failure comes back with a reason to show. */
export async function readAndHash(file: string, size: number, maxFileBytes: number): Promise<ReadOutcome> {
  if (size === 0) return { kind: 'failed', reason: 'empty file' };
  if (size > maxFileBytes) {
    return { kind: 'failed', reason: `file too large (${(size / 2 ** 20).toFixed(0)} MiB, limit ${(maxFileBytes / 2 ** 20).toFixed(0)} MiB)` };
  }
  try {
    const bytes = size <= SYNC_READ_BYTES ? readSmall(file) : await fs.readFile(file);
    if (bytes.length === 0) return { kind: 'failed', reason: 'empty file' };
    return { kind: 'read', id: contentId(bytes), bytes };
  } catch (e) {
    return { kind: 'failed', reason: describeReadFailure(e) };
  }
}
