import createDebug from 'debug';
import { EnvironmentError, InputError } from '../../engine/errors.js';
import { describeConnection, scrubPassword } from './external-url.js';
import { quoteIdent } from './sql-names.js';
import type { ConnectionInfo } from './types.js';
import { withClient } from './with-client.js';

const debug = createDebug('drill:pg');

/**
 * The server-side drill-target marker of an external PostgreSQL: a setting on the database the
 * URL names, for every role, that an operator sets once:
 *
 *     ALTER DATABASE postgres SET drill.target = 'true';
 *
 * `drillTarget: true` in a scenario says what its author meant; the marker says the server agrees.
 * A typo in a URL, or `${DRILL_PG_URL}` pointing at production, reaches a server without it and is
 * refused before anything is written. It is read from the catalog (pg_db_role_setting), not with
 * current_setting(): a client can set any `drill.*` value for its own session (PGOPTIONS), only
 * the database's owner or a superuser can put it in the catalog.
 */
export const DRILL_TARGET_SETTING = 'drill.target';

/** The one-line command that marks the database `connection` names (also shown in the refusal). */
export function markerCommand(connection: ConnectionInfo): string {
  const name = /^[a-z_][a-z0-9_]*$/.test(connection.database) ? connection.database : quoteIdent(connection.database);
  return `ALTER DATABASE ${name} SET ${DRILL_TARGET_SETTING} = 'true'`;
}

/** Resolves when the server carries the marker; otherwise NOT_A_DRILL_TARGET (exit 2), having only read. */
export async function requireDrillTargetMarker(connection: ConnectionInfo): Promise<void> {
  const where = describeConnection(connection);
  let marked: boolean;
  try {
    marked = await withClient(connection, async (c) => {
      // Read-only and in a read-only transaction: the check itself cannot write, whatever the server.
      await c.query('begin transaction read only');
      const { rows } = await c.query<{ marked: boolean }>(
        `select exists (
           select 1 from pg_db_role_setting s join pg_database d on d.oid = s.setdatabase
            where d.datname = current_database() and s.setrole = 0 and $1 = any (s.setconfig)
         ) as marked`,
        [`${DRILL_TARGET_SETTING}=true`],
      );
      await c.query('rollback');
      return rows[0]!.marked;
    }, 10_000);
  } catch (error) {
    // No `cause`: the original error is not scrubbed, and causes get printed.
    throw new EnvironmentError(
      'EXTERNAL_UNREACHABLE',
      `cannot check the drill-target marker of the external PostgreSQL at ${where}: ${scrubPassword((error as Error).message ?? String(error), connection)}. ` +
        'Check targets.postgres.url and that the server accepts connections from this machine.',
    );
  }
  debug('drill-target marker on %s: %s', where, marked);
  if (marked) return;
  throw new InputError(
    'NOT_A_DRILL_TARGET',
    `the external PostgreSQL at ${where} is not marked as a drill target on the server: database "${connection.database}" has no setting ` +
      `${DRILL_TARGET_SETTING} = 'true'. The drill would drop and create a database "drill" there and copy the whole server in base backups, ` +
      'and targets.postgres.drillTarget in the scenario cannot tell whether the URL reaches the server meant. ' +
      `Only if this server is meant for drills, mark it once: psql "${where}" -c "${markerCommand(connection).replaceAll('"', '\\"')}". Nothing was touched.`,
  );
}
