import { SCHEMA_VERSION } from '../manifest.js';
import { SEARCH_TEXT_SQL } from '../search-text.js';
import type { Manifest } from '../types.js';
import type { LanceDB } from './arrow.js';

/** Brings an index written by an older Visor up to the current schema, in place. */
export async function migrate(table: LanceDB.Table, manifest: Manifest): Promise<void> {
  const has = new Set((await table.schema()).fields.map((f) => f.name));
  if (manifest.schemaVersion < 2 && !has.has('search_text')) {
    await table.addColumns([{ name: 'search_text', valueSql: SEARCH_TEXT_SQL }]);
  }
  manifest.schemaVersion = SCHEMA_VERSION;
}
