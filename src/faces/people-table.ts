import type { SideTable, VectorStore } from '../store/port.js';
import type { SideSchema } from '../store/types.js';
import type { Person } from './grouping.js';

/**
 * The `persons` side table: one row per person, keyed by its id ("p12"), holding its name,
 * its faces and the user's decisions about it (faces pinned, faces rejected, persons kept
 * apart) as JSON. Grouping reads it whole and writes back the persons it changed.
 */
export const PERSONS_TABLE = 'persons';
const SCHEMA = { person: 'string' } as const satisfies SideSchema;
type Table = SideTable<typeof SCHEMA>;

export class PeopleTable {
  private cache: { version: number; persons: Person[] } | null = null;

  private constructor(
    private readonly store: Pick<VectorStore, 'sideTable' | 'hasSideTable'>,
    private table: Table | null,
  ) {}

  static async open(store: Pick<VectorStore, 'sideTable' | 'hasSideTable'>): Promise<PeopleTable> {
    return new PeopleTable(store, (await store.hasSideTable(PERSONS_TABLE)) ? await store.sideTable(PERSONS_TABLE, SCHEMA) : null);
  }

  private async existing(): Promise<Table | null> {
    if (!this.table && (await this.store.hasSideTable(PERSONS_TABLE))) this.table = await this.store.sideTable(PERSONS_TABLE, SCHEMA);
    return this.table;
  }

  async version(): Promise<number> {
    return (await (await this.existing())?.version()) ?? 0;
  }

  /** Every person (copies: the caller may change them). */
  async all(): Promise<Person[]> {
    const table = await this.existing();
    if (!table) return [];
    const version = await table.version();
    if (this.cache?.version !== version) {
      const { ids, person } = await table.read(['person']);
      this.cache = { version, persons: ids.map((id, i) => ({ ...(JSON.parse(person[i]!) as Omit<Person, 'id'>), id })) };
    }
    return this.cache.persons.map((p) => structuredClone(p));
  }

  async save(change: { put: readonly Person[]; deleted: readonly string[] }): Promise<void> {
    if (change.deleted.length > 0) await (await this.existing())?.delete(change.deleted);
    if (change.put.length === 0) return;
    this.table ??= await this.store.sideTable(PERSONS_TABLE, SCHEMA);
    await this.table.put(change.put.map(({ id, ...rest }) => ({ id, person: JSON.stringify(rest) })));
  }

  /** Drops older versions of the table, which still hold forgotten persons' names and faces. */
  async purge(): Promise<void> {
    await (await this.existing())?.purge?.();
  }

  close(): void {
    this.table?.close();
    this.table = null;
    this.cache = null;
  }
}
