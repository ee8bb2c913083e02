/**
 * Opening a table another node creates (lance/tables.ts): waited for, never created here, and
 * a clear error when it does not appear; on a local folder, so without the cluster.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { arrow, lancedb } from '../src/store/lance/arrow.js';
import { openTable } from '../src/store/lance/tables.js';
import { tempDir } from './fixtures.js';

const schema = () => new arrow.Schema([new arrow.Field('id', new arrow.Utf8(), false)]);
const elsewhere = (timeoutMs: number) => ({ timeoutMs, where: 'the test folder', hint: 'it is created by the other connection' });

const cleanups: Array<() => void> = [];
afterEach(() => {
  for (const f of cleanups.splice(0)) f();
});

async function connect() {
  const t = tempDir('visor-tables-');
  cleanups.push(t.cleanup);
  const db = await lancedb.connect(t.dir);
  cleanups.push(() => db.close());
  return { dir: t.dir, db };
}

describe('tables created by another node', () => {
  it('waits until the creator has made it, then opens it', async () => {
    const { dir, db } = await connect();
    let opened = false;
    const waiting = openTable(db, 't', schema, elsewhere(10_000)).then((t) => ((opened = true), t));
    await new Promise((r) => setTimeout(r, 300));
    expect(opened).toBe(false);
    expect(await db.tableNames()).toEqual([]);
    const creator = await lancedb.connect(dir);
    await (await openTable(creator, 't', schema)).add([{ id: 'a' }]);
    creator.close();
    expect(await (await waiting).countRows()).toBe(1);
  });

  it('fails with STORE_UNAVAILABLE, naming the table and who creates it, when it does not appear; nothing created', async () => {
    const { db } = await connect();
    await expect(openTable(db, 't', schema, elsewhere(400))).rejects.toMatchObject({
      code: 'STORE_UNAVAILABLE',
      message: 'table t of the test folder did not appear within 0.4 s: it is created by the other connection',
    });
    expect(await db.tableNames()).toEqual([]);
  });
});
