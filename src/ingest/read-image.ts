import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import type { ModelInput } from '../image/decode.js';
import type { DecodeLimits } from '../image/limits.js';
import { errorMessage, isVisorError } from '../errors.js';

export interface ReadLimits extends DecodeLimits {
  /** Files larger than this are not read (default 256 MiB). */
  maxFileBytes: number;
}

export const DEFAULT_MAX_FILE_BYTES = 256 * 1024 * 1024;

// sharp loads libvips (~60 ms): only runs that decode something pay for it.
let decoder: Promise<typeof import('../image/decode.js')> | null = null;
const loadDecoder = () => (decoder ??= import('../image/decode.js'));

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

export type ReadOutcome =
  | { kind: 'failed'; reason: string }
  | { kind: 'known'; id: string; bytes: number }
  | { kind: 'decoded'; id: string; bytes: number; input: ModelInput };

/**
 * Reads, hashes and — unless the content is already known — decodes one file. Never throws:
 * every failure comes back with a reason a user can act on.
 */
export async function readImageFile(
  file: string,
  size: number,
  modelSize: number,
  limits: ReadLimits,
  isKnown: (id: string) => boolean,
): Promise<ReadOutcome> {
  if (size > limits.maxFileBytes) {
    return { kind: 'failed', reason: `file too large (${(size / 2 ** 20).toFixed(0)} MiB, limit ${(limits.maxFileBytes / 2 ** 20).toFixed(0)} MiB)` };
  }
  let bytes: Buffer;
  try {
    bytes = await fs.readFile(file);
  } catch (e) {
    return { kind: 'failed', reason: describeReadFailure(e) };
  }
  const id = contentId(bytes);
  if (isKnown(id)) return { kind: 'known', id, bytes: bytes.length };
  try {
    const { decodeForModel } = await loadDecoder();
    return { kind: 'decoded', id, bytes: bytes.length, input: await decodeForModel(bytes, modelSize, limits) };
  } catch (e) {
    return { kind: 'failed', reason: isVisorError(e) ? e.message : `cannot decode (${errorMessage(e)})` };
  }
}
