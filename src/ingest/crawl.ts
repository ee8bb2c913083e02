import fs from 'node:fs/promises';
import path from 'node:path';

/** Extensions of formats sharp (libvips) decodes; other files are ignored unless asked for. */
export const IMAGE_EXTENSIONS = new Set([
  '.jpg',
  '.jpeg',
  '.jpe',
  '.jfif',
  '.png',
  '.webp',
  '.gif',
  '.avif',
  '.heic',
  '.heif',
  '.tif',
  '.tiff',
  '.svg',
  '.jp2',
  '.jxl',
]);

export interface FoundFile {
  /** Absolute path as reached from the root (through symlinks, not resolved). */
  path: string;
  size: number;
  mtimeMs: number;
}

export interface CrawlProblem {
  path: string;
  reason: string;
}

export interface CrawlOptions {
  /** Include files and folders whose name starts with '.' (default false). */
  hidden?: boolean;
  /** Try every file, not only known image extensions (default false). */
  allFiles?: boolean;
  signal?: AbortSignal;
}

export interface CrawlResult {
  files: FoundFile[];
  problems: CrawlProblem[];
  /** Regular files skipped because their extension is not an image format. */
  ignored: number;
  /**
   * Folders that could not be listed and entries that could not be examined, though they exist
   * (permission denied, I/O error): what the index holds under them is not known to be gone.
   */
  unreadable: string[];
}

function reasonFor(e: unknown, what: string): string {
  const code = (e as NodeJS.ErrnoException).code;
  if (code === 'EACCES' || code === 'EPERM') return `${what}: permission denied`;
  if (code === 'ENOENT') return `${what}: vanished while scanning`;
  if (code === 'ELOOP') return `${what}: too many levels of symbolic links`;
  return `${what}: ${(e as Error).message}`;
}

/**
 * Node reads folder entries as UTF-8 and puts U+FFFD in place of bytes that are not, so a name
 * in another encoding (Latin-1 from an old camera or archive) comes back as a path that does not
 * exist. Say so, rather than that the file vanished.
 */
const NOT_UTF8 = 'file name is not valid UTF-8, so Visor cannot open it: rename it';

/**
 * Walks folders (or takes single files) and lists candidate images. Symbolic links are
 * followed, but a folder already visited (by its device and inode) is not entered again, so
 * link loops end. Nothing here throws for one bad entry: it becomes a problem and the walk goes on.
 */
export async function crawl(roots: readonly string[], opts: CrawlOptions = {}): Promise<CrawlResult> {
  const result: CrawlResult = { files: [], problems: [], ignored: 0, unreadable: [] };
  const visited = new Set<string>();
  const wanted = (name: string) => opts.allFiles || IMAGE_EXTENSIONS.has(path.extname(name).toLowerCase());

  const visitFile = (p: string, st: import('node:fs').Stats, explicit: boolean): void => {
    if (!st.isFile()) {
      result.problems.push({ path: p, reason: 'not a regular file' });
      return;
    }
    if (!explicit && !wanted(p)) {
      result.ignored++;
      return;
    }
    result.files.push({ path: p, size: st.size, mtimeMs: st.mtimeMs });
  };

  const walk = async (dir: string, st: import('node:fs').Stats): Promise<void> => {
    const key = `${st.dev}:${st.ino}`;
    if (visited.has(key)) return; // a symlink loop, or the same folder reached twice
    visited.add(key);
    let entries: import('node:fs').Dirent[];
    try {
      entries = await fs.readdir(dir, { withFileTypes: true });
    } catch (e) {
      result.problems.push({ path: dir, reason: reasonFor(e, 'cannot read folder') });
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') result.unreadable.push(dir);
      return;
    }
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    const visible = entries.filter((e) => opts.hidden || !e.name.startsWith('.'));
    // Stat a folder's entries concurrently: one at a time, a large folder waits on each round trip.
    const STAT_CHUNK = 64;
    for (let i = 0; i < visible.length; i += STAT_CHUNK) {
      if (opts.signal?.aborted) return;
      const chunk = visible.slice(i, i + STAT_CHUNK);
      const stats = await Promise.all(chunk.map((e) => fs.stat(path.join(dir, e.name)).catch((err: unknown) => err as Error)));
      for (let j = 0; j < chunk.length; j++) {
        const entry = chunk[j]!;
        const p = path.join(dir, entry.name);
        const est = stats[j]!;
        if (est instanceof Error) {
          const code = (est as NodeJS.ErrnoException).code;
          if (code === 'ENOENT' && entry.name.includes('\uFFFD')) {
            result.problems.push({ path: p, reason: NOT_UTF8 });
          } else if (entry.isSymbolicLink() && code === 'ENOENT') {
            if (wanted(entry.name)) result.problems.push({ path: p, reason: 'broken symbolic link' });
          } else {
            result.problems.push({ path: p, reason: reasonFor(est, 'cannot read') });
            if (code !== 'ENOENT') result.unreadable.push(p);
          }
          continue;
        }
        if (est.isDirectory()) await walk(p, est);
        else if (est.isFile() || wanted(entry.name)) visitFile(p, est, false);
      }
    }
  };

  for (const root of roots) {
    const abs = path.resolve(root);
    let st: import('node:fs').Stats;
    try {
      st = await fs.stat(abs);
    } catch (e) {
      const missing = (e as NodeJS.ErrnoException).code === 'ENOENT';
      result.problems.push({ path: abs, reason: missing ? 'no such file or folder' : reasonFor(e, 'cannot read') });
      continue;
    }
    if (st.isDirectory()) await walk(abs, st);
    else visitFile(abs, st, true);
  }
  return result;
}
