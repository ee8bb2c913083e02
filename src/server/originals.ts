import fs from 'node:fs/promises';
import type { StoredItem } from '../store/types.js';

/** Content types of the formats an index may hold (libvips' format names). */
const MIME_OF: Record<string, string> = {
  jpeg: 'image/jpeg',
  png: 'image/png',
  webp: 'image/webp',
  gif: 'image/gif',
  avif: 'image/avif',
  heif: 'image/heif',
  tiff: 'image/tiff',
  svg: 'image/svg+xml',
  jp2k: 'image/jp2',
  jxl: 'image/jxl',
};

export function mimeOf(format: string): string {
  return MIME_OF[format] ?? 'application/octet-stream';
}

/**
 * The file that holds an item's content now: the first of its paths whose size and
 * modification time are still those recorded when it was indexed (how the indexer itself
 * decides a file is unchanged). A file edited since then holds other content than the id
 * names, so it is not served under that id. Null when none is left.
 */
export async function locateOriginal(item: StoredItem): Promise<{ path: string; size: number } | null> {
  for (let i = 0; i < item.paths.length; i++) {
    const p = item.paths[i]!;
    const st = await fs.stat(p).catch(() => null);
    if (st?.isFile() && st.size === item.fileSizes[i] && Math.abs(st.mtimeMs - (item.fileMtimes[i] ?? -1)) < 1) {
      return { path: p, size: st.size };
    }
  }
  return null;
}
