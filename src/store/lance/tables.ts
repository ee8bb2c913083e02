import { VisorError } from '../../errors.js';
import type { Arrow, LanceDB } from './arrow.js';

/**
 * A table another process creates: opened once it exists, never created here. LanceDB commits
 * a table's creation as an Overwrite, which a second creator's commit does not refuse but
 * lands on top of the first (wiping, or failing, the first creator's appends): of several
 * nodes sharing a collection, exactly one creates each table (the one that claimed it, see
 * sharded/), the others wait for it.
 */
export interface CreatedElsewhere {
  /** How long to wait for it, in milliseconds. */
  timeoutMs: number;
  /** Where it is, as users name it (e.g. "shards/001 of s3://bucket/photos"). */
  where: string;
  /** Who creates it and what to do if it never appears, for the error then. */
  hint: string;
}

/** How long a node waits for a table another node is creating: its first commit is one object write. */
export const TABLE_WAIT_MS = 30_000;

const FIRST_RETRY_MS = 50;
const LONGEST_RETRY_MS = 1000;

const notFound = (e: unknown) => e instanceof Error && /was not found|not found:/i.test(e.message);

/**
 * The table `name` of a database, opened; when missing, created with `schema` here, or, where
 * it is created elsewhere, waited for (retries backing off to one a second) until it exists.
 */
export async function openTable(db: LanceDB.Connection, name: string, schema: () => Arrow.Schema, elsewhere?: CreatedElsewhere): Promise<LanceDB.Table> {
  if (!elsewhere) return (await db.tableNames()).includes(name) ? db.openTable(name) : db.createEmptyTable(name, schema(), { existOk: true });
  const until = Date.now() + elsewhere.timeoutMs;
  for (let wait = FIRST_RETRY_MS; ; wait = Math.min(wait * 2, LONGEST_RETRY_MS)) {
    try {
      // Listed names can run ahead of the first commit (its directory exists first): open to know.
      return await db.openTable(name);
    } catch (e) {
      if (!notFound(e)) throw e;
      if (Date.now() + wait > until)
        throw new VisorError(
          'STORE_UNAVAILABLE',
          `table ${name} of ${elsewhere.where} did not appear within ${elsewhere.timeoutMs / 1000} s: ${elsewhere.hint}`,
          { cause: e },
        );
    }
    await new Promise((r) => setTimeout(r, wait));
  }
}
