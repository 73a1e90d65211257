import type { ConnectionInfo } from './types.js';
import { withClient } from './with-client.js';

/**
 * A named restore point, then a WAL switch so the segment holding it reaches the archive now
 * rather than when the segment fills: PITR to it needs it archived.
 */
export async function createRestorePoint(connection: ConnectionInfo, name: string): Promise<string> {
  return withClient(connection, async (c) => {
    const { rows } = await c.query<{ lsn: string }>('select pg_create_restore_point($1)::text as lsn', [name]);
    await c.query('select pg_switch_wal()');
    return rows[0]!.lsn;
  });
}
