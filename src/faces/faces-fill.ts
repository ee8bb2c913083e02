import type { FactsRow } from '../facts/facts-table.js';
import type { FacesTable } from './faces-table.js';

/**
 * Moves the faces the facts pass read out of its rows into the faces table: each image whose
 * faces stage ran gets its faces replaced (none, when it has none). The facts row keeps only
 * the mark that the stage ran, so the faces and their embeddings are in one place, which
 * forgetting a person empties.
 */
export async function storeFaces(table: FacesTable, rows: FactsRow[]): Promise<void> {
  const read = rows.filter((r) => r.facts.faces !== undefined);
  await table.replace(read.map((r) => ({ item: r.id, faces: r.facts.faces! })));
  for (const r of read) delete r.facts.faces;
}
