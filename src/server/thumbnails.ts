import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import { VisorError, errorMessage } from '../errors.js';

export interface ThumbnailSource {
  path: string;
  /** Width × height as indexed. */
  pixels: number;
}

/** Longest side of a thumbnail, in pixels: sharp on a phone's 2× screen in a 128-px grid cell. */
export const THUMB_SIZE = 256;

/**
 * Thumbnails made on first request and kept on disk inside the index folder (thumbs/<id>.webp).
 * Ids are content hashes, so a thumbnail never goes stale: a changed file is a new id. Requests
 * for a thumbnail being made wait for that one rather than making it again.
 */
export class Thumbnails {
  private readonly making = new Map<string, Promise<string>>();

  constructor(
    readonly dir: string,
    private readonly maxPixels: number,
  ) {}

  fileFor(id: string): string {
    return path.join(this.dir, `${id}.webp`);
  }

  /**
   * The thumbnail's file, made from `source()` when not cached yet: the original's path and the
   * pixels recorded when it was indexed.
   */
  async get(id: string, source: () => Promise<ThumbnailSource | null>): Promise<string> {
    const file = this.fileFor(id);
    if (await exists(file)) return file;
    let pending = this.making.get(id);
    if (!pending) {
      pending = this.make(id, file, source).finally(() => this.making.delete(id));
      this.making.set(id, pending);
    }
    return pending;
  }

  async forget(id: string): Promise<void> {
    await fs.rm(this.fileFor(id), { force: true });
  }

  private async make(id: string, file: string, source: () => Promise<ThumbnailSource | null>): Promise<string> {
    const src = await source();
    if (!src) throw new VisorError('NOT_FOUND', `the file of item ${id} has changed or moved since it was indexed; index it again`);
    await fs.mkdir(this.dir, { recursive: true });
    // Written beside the final name and renamed: a reader never sees half a file, and two
    // servers sharing an index cannot interleave their writes.
    const tmp = `${file}.${randomBytes(6).toString('hex')}.tmp`;
    try {
      // The server's pixel limit is for what clients send; an indexed file was already decoded
      // under the index's own limit, so its recorded size is allowed too (and nothing larger:
      // a file swapped for a bigger one with the same size and time is still refused).
      await sharp(src.path, { limitInputPixels: Math.max(this.maxPixels, src.pixels), failOn: 'none', autoOrient: true })
        .resize(THUMB_SIZE, THUMB_SIZE, { fit: 'inside', withoutEnlargement: true })
        .webp({ quality: 78 })
        .toFile(tmp);
      await fs.rename(tmp, file);
    } catch (e) {
      await fs.rm(tmp, { force: true });
      // The file passed the size-and-time check, so this is the server's failure, not the client's.
      throw new Error(`cannot make a thumbnail of item ${id}: ${errorMessage(e).split('\n')[0]}`, { cause: e });
    }
    return file;
  }
}

async function exists(file: string): Promise<boolean> {
  return fs.access(file).then(
    () => true,
    () => false,
  );
}
