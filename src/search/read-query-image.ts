import fs from 'node:fs/promises';
import { VisorError } from '../errors.js';

/** A query image's bytes, or IMAGE_UNREADABLE saying why in the user's terms. */
export async function readQueryImage(file: string): Promise<Buffer> {
  try {
    return await fs.readFile(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : code === 'EISDIR' ? 'it is a folder' : (e as Error).message;
    throw new VisorError('IMAGE_UNREADABLE', `cannot read query image ${file}: ${why}`, { cause: e });
  }
}
