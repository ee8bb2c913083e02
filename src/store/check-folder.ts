import fs from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { errorMessage } from '../errors.js';
import { readManifest } from './manifest.js';
import { report, type StoreCheck, type StoreReport } from './check-types.js';

/** The nearest folder that exists at or above `dir` (where a missing index folder would be created). */
function nearestExisting(dir: string): string {
  let d = dir;
  while (!fs.existsSync(d) && path.dirname(d) !== d) d = path.dirname(d);
  return d;
}

/**
 * Checks a local index folder: it exists (or could be created), Visor can write in it, and its
 * manifest, when there is one, reads. Creates nothing: a probe file is written and removed.
 */
export function checkFolder(dir: string): StoreReport {
  const checks: StoreCheck[] = [];
  const done = (): StoreReport => report(dir, 'local', checks);
  const base = nearestExisting(dir);
  const stat = fs.statSync(base);
  if (!stat.isDirectory()) {
    checks.push({ name: 'folder', ok: false, detail: `${base} is a file, not a folder`, fix: 'choose another --db' });
    return done();
  }
  const exists = base === dir;
  checks.push({ name: 'folder', ok: true, detail: exists ? `${dir} exists` : `${dir} does not exist yet; it will be created in ${base}` });

  if (exists) {
    const probe = path.join(dir, `.visor-doctor-${randomBytes(4).toString('hex')}`);
    try {
      fs.writeFileSync(probe, 'probe');
      checks.push({ name: 'writable', ok: true, detail: 'wrote and removed a probe file' });
    } catch (e) {
      checks.push({
        name: 'writable',
        ok: false,
        detail: `cannot write in ${dir}: ${errorMessage(e)}`,
        fix: 'give this user write permission, or choose another --db',
      });
      return done();
    } finally {
      fs.rmSync(probe, { force: true });
    }
  } else {
    try {
      fs.accessSync(base, fs.constants.W_OK);
      checks.push({ name: 'writable', ok: true, detail: `${base} is writable` });
    } catch {
      checks.push({
        name: 'writable',
        ok: false,
        detail: `cannot create ${dir}: ${base} is not writable`,
        fix: 'give this user write permission, or choose another --db',
      });
      return done();
    }
  }

  try {
    const m = exists ? readManifest(dir) : null;
    checks.push({ name: 'manifest', ok: true, detail: m ? `an index (schema ${m.schemaVersion}, image model ${m.imageModel})` : 'no index here yet' });
  } catch (e) {
    checks.push({ name: 'manifest', ok: false, detail: errorMessage(e), fix: 'choose another --db, or move the damaged index aside' });
  }
  return done();
}
