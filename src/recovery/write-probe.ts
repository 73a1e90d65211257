import type { ConnectionInfo } from '../targets/postgres/types.js';
import { withClient } from '../targets/postgres/with-client.js';
import { quoteIdent } from '../targets/postgres/sql-names.js';

/**
 * Whether the instance refuses a write. Any CREATE is refused in a read-only transaction, and the
 * table is dropped in the same transaction when it is not, so the probe leaves nothing behind.
 */
export async function writesRefused(connection: ConnectionInfo): Promise<boolean> {
  return withClient(connection, async (c) => {
    try {
      await c.query('begin; create table drill_write_probe(x int); drop table drill_write_probe; commit');
      return false;
    } catch (error) {
      await c.query('rollback').catch(() => undefined);
      if (/read-only transaction/.test(String(error))) return true;
      throw error;
    }
  });
}

/** Read-only mode of one database: new sessions default to read-only transactions. */
export async function setDatabaseReadOnly(connection: ConnectionInfo, readOnly: boolean): Promise<void> {
  await withClient(connection, async (c) => {
    await c.query('set default_transaction_read_only = off');
    const db = quoteIdent(connection.database);
    await c.query(readOnly ? `alter database ${db} set default_transaction_read_only = on` : `alter database ${db} reset default_transaction_read_only`);
  });
}
