import fs from 'node:fs';
import path from 'node:path';
import { VisorError } from '../errors.js';
import type { Manifest } from './types.js';

export type { Manifest } from './types.js';

/*
 * `visor.json` beside the tables: what an index was built with (see Manifest). Checked on open
 * so an index made by another model or a newer Visor is refused with a reason, not misread.
 */

/** 1: first release. 2: search_text column with a full-text index (keyword search). */
export const SCHEMA_VERSION = 2;
const FILE = 'visor.json';

export function manifestPath(dir: string): string {
  return path.join(dir, FILE);
}

export function readManifest(dir: string): Manifest | null {
  let text: string;
  try {
    text = fs.readFileSync(manifestPath(dir), 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return null;
    if (code === 'ENOTDIR')
      throw new VisorError('INDEX_INCOMPATIBLE', `${dir} is not a folder (its path runs through a file); choose another --db`, { cause: e });
    if (code === 'EACCES' || code === 'EPERM') throw new VisorError('INDEX_INCOMPATIBLE', `cannot read ${manifestPath(dir)}: permission denied`, { cause: e });
    throw e;
  }
  return parseManifest(text, manifestPath(dir), `index at ${dir}`);
}

/**
 * A manifest's text checked: a Visor index manifest this Visor can read. `where` names the file
 * or object in messages, `index` the index.
 */
export function parseManifest(text: string, where: string, index: string): Manifest {
  let m: Manifest;
  try {
    m = JSON.parse(text) as Manifest;
  } catch (e) {
    throw new VisorError('INDEX_INCOMPATIBLE', `${where} is damaged (${(e as Error).message}); the index cannot be read`, { cause: e });
  }
  if (m === null || typeof m !== 'object' || m.format !== 'visor-index') {
    throw new VisorError('INDEX_INCOMPATIBLE', `${where} is not a Visor index manifest`);
  }
  if (typeof m.schemaVersion !== 'number' || typeof m.dimension !== 'number' || typeof m.imageModel !== 'string') {
    throw new VisorError('INDEX_INCOMPATIBLE', `${where} is damaged (no schemaVersion, dimension or imageModel); the index cannot be read`);
  }
  if (m.schemaVersion > SCHEMA_VERSION) {
    throw new VisorError('INDEX_INCOMPATIBLE', `${index} has schema version ${m.schemaVersion}; this Visor reads up to ${SCHEMA_VERSION} — upgrade Visor`);
  }
  m.settings ??= {};
  return m;
}

/** Written to a temporary file and renamed, so a crash never leaves half a manifest. */
export function writeManifest(dir: string, m: Manifest): void {
  fs.mkdirSync(dir, { recursive: true });
  const tmp = `${manifestPath(dir)}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, `${JSON.stringify(m, null, 2)}\n`);
  fs.renameSync(tmp, manifestPath(dir));
}
