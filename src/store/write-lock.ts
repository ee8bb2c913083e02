import fs from 'node:fs';
import path from 'node:path';
import { VisorError } from '../errors.js';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * One writer per index: two indexers on the same folder would both embed the same new files.
 * The lock file holds the owner's pid; a lock left by a killed process is taken over.
 */
export function acquireWriteLock(dir: string): () => void {
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, 'write.lock');
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      fs.writeFileSync(file, String(process.pid), { flag: 'wx' });
      let released = false;
      return () => {
        if (released) return;
        released = true;
        fs.rmSync(file, { force: true });
      };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      const owner = Number(fs.readFileSync(file, 'utf8').trim());
      if (Number.isInteger(owner) && owner > 0 && owner !== process.pid && alive(owner)) {
        throw new VisorError('INDEX_LOCKED', `index at ${dir} is being written by process ${owner}; wait for it to finish`);
      }
      fs.rmSync(file, { force: true }); // stale: its owner is gone
    }
  }
  throw new VisorError('INDEX_LOCKED', `could not lock index at ${dir}`);
}
