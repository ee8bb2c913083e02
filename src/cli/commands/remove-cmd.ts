import { Collection } from '../../collection.js';
import { displayPath, printJson } from '../output.js';
import type { GlobalOptions } from '../run.js';

export async function removeCommand(paths: string[], o: GlobalOptions): Promise<void> {
  const collection = await Collection.open({ db: o.db });
  try {
    const r = await collection.remove(paths);
    if (o.json) return printJson(r);
    process.stdout.write(
      `Removed ${r.removedPaths} path${r.removedPaths === 1 ? '' : 's'} (${r.removedItems} image${r.removedItems === 1 ? '' : 's'} no longer indexed).\n`,
    );
    for (const p of r.notIndexed) process.stderr.write(`not in the index: ${displayPath(p)}\n`);
  } finally {
    await collection.close();
  }
}
