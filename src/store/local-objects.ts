import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { VisorError } from '../errors.js';
import type { ObjectStore } from './objects.js';

/**
 * The ObjectStore port over a local folder (keys are relative paths), for what a collection in
 * a folder shares between processes on one machine, such as content-id claims.
 */
export class LocalObjects implements ObjectStore {
  constructor(readonly dir: string) {}

  private file(key: string): string {
    const f = path.resolve(this.dir, key);
    if (!f.startsWith(path.resolve(this.dir) + path.sep)) throw new VisorError('QUERY_INVALID', `object key ${key} leaves ${this.dir}`);
    return f;
  }

  async get(key: string): Promise<Buffer | null> {
    return fs.readFile(this.file(key)).catch((e: NodeJS.ErrnoException) => (e.code === 'ENOENT' ? null : Promise.reject(e)));
  }

  /** Whole or not at all: written beside, then renamed over. */
  async put(key: string, body: Buffer | string): Promise<void> {
    const f = this.file(key);
    await fs.mkdir(path.dirname(f), { recursive: true });
    const tmp = `${f}.${randomBytes(6).toString('hex')}.tmp`;
    await fs.writeFile(tmp, body);
    await fs.rename(tmp, f);
  }

  /**
   * Create-if-absent between processes: the body is written to a file of its own, then linked
   * under the key, which fails when the key exists; so a reader never sees a half-written object.
   */
  async putIfAbsent(key: string, body: Buffer | string): Promise<boolean> {
    const f = this.file(key);
    await fs.mkdir(path.dirname(f), { recursive: true });
    const tmp = `${f}.${randomBytes(6).toString('hex')}.tmp`;
    await fs.writeFile(tmp, body, { flag: 'wx' });
    try {
      await fs.link(tmp, f);
      return true;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
      throw e;
    } finally {
      await fs.rm(tmp, { force: true });
    }
  }

  async delete(key: string): Promise<void> {
    await fs.rm(this.file(key), { force: true });
  }

  async list(prefix: string): Promise<Array<{ key: string; size: number }>> {
    const root = path.resolve(this.dir);
    const entries = await fs.readdir(root, { recursive: true, withFileTypes: true }).catch(() => []);
    const out: Array<{ key: string; size: number }> = [];
    for (const e of entries) {
      if (!e.isFile() || e.name.endsWith('.tmp')) continue;
      const full = path.join(e.parentPath, e.name);
      const key = path.relative(root, full).split(path.sep).join('/');
      if (key.startsWith(prefix)) out.push({ key, size: (await fs.stat(full)).size });
    }
    return out;
  }

  async checkBucket(): Promise<void> {
    await fs.mkdir(this.dir, { recursive: true });
  }

  close(): void {}
}
