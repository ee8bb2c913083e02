import type { StoreStats } from '../types.js';
import type { AnnIndex } from './ann.js';
import type { ItemTable } from './items.js';

/** Items, files, ANN index, catalogue columns and version of an index. */
export async function storeStats(items: ItemTable, ann: AnnIndex, version: () => Promise<number>): Promise<StoreStats> {
  const index = await ann.info();
  const states = await items.fileStates();
  return {
    items: await items.count(),
    files: states.length,
    annIndex: index ? { type: index.type, indexedRows: index.indexedRows, unindexedRows: index.unindexedRows } : null,
    metaColumns: await items.metaColumns(),
    version: await version(),
  };
}
