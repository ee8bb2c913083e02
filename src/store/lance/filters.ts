import { errorMessage, type VisorError } from '../../errors.js';
import { checkItemIds, filterInvalid, unknownColumn } from '../errors.js';
import type { MetaColumnType } from '../types.js';
import type { LanceDB } from './arrow.js';

/** Where-clauses: item ids as SQL lists, filters run, and the errors LanceDB gives put in the user's terms. */

/** Ids as an SQL list for `id IN (…)`; anything but a hex id is refused (it would be spliced into SQL). */
export function idList(ids: readonly string[]): string {
  checkItemIds(ids);
  return ids.map((id) => `'${id}'`).join(', ');
}

/**
 * A filter LanceDB refused, in the user's terms: its last cause without the Rust source
 * locations and repeated cause chain, and for an unknown column the catalogue's columns
 * (LanceDB lists its internal ones).
 */
export async function filterError(where: string, e: unknown, metaColumns: () => Promise<Record<string, MetaColumnType>>): Promise<VisorError> {
  const causes = errorMessage(e).split(/\s+Caused by:\s+/);
  let reason = causes[causes.length - 1]!.replace(/,\s*\/\S+\.rs:\d+:\d+/g, '').trim();
  const field = /No field named ([^\s.]+)/.exec(reason);
  if (field) {
    reason = unknownColumn(field[1]!, Object.keys(await metaColumns().catch(() => ({}))));
  } else {
    reason = /\(sql parser error: (.*)\)$/.exec(reason)?.[1] ?? reason;
  }
  return filterInvalid(where, reason, e);
}

/** Ids of the rows a filter admits. */
export async function whereIds(table: LanceDB.Table, where: string, metaColumns: () => Promise<Record<string, MetaColumnType>>): Promise<Set<string>> {
  try {
    const rows = await table.query().where(where).select(['id']).toArray();
    return new Set(rows.map((r) => String(r.id)));
  } catch (e) {
    throw await filterError(where, e, metaColumns);
  }
}
