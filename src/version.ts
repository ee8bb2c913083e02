import fs from 'node:fs';
import path from 'node:path';

/**
 * Visor's version, from its package.json: the nearest one above this module, which is two
 * folders up when run from source (src/) and three when built (dist/src/).
 */
export const VERSION: string = (() => {
  for (let dir = import.meta.dirname; ; dir = path.dirname(dir)) {
    const file = path.join(dir, 'package.json');
    if (fs.existsSync(file)) return (JSON.parse(fs.readFileSync(file, 'utf8')) as { version: string }).version;
    if (path.dirname(dir) === dir) throw new Error(`no package.json above ${import.meta.dirname}`);
  }
})();
