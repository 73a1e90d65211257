import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { StepFailedError } from '../engine/errors.js';
import type { PgInstance } from '../targets/postgres/types.js';
import { endClient } from '../targets/postgres/end-client.js';

/** SQLSTATE of a write in a read-only transaction: the one answer that says the fence holds. */
export const READ_ONLY_SQL_TRANSACTION = '25006';

/** What the check saw: the write a new session tried and how the server refused it. */
export interface FenceVerification {
  /** Where the session went (database and role; never the password). */
  database: string;
  user: string;
  attempted: string;
  sqlstate: string;
  refusal: string;
}

/**
 * Whether the fence holds for a new client: a fresh session to the application's database (where
 * an ALTER DATABASE or ALTER ROLE value would override the server's default) tries a write inside
 * a transaction it rolls back (CREATE TABLE of a name of its own: no table of the application is
 * needed, and nothing is left if it goes through). Refused with 25006 read_only_sql_transaction: the
 * fence holds. Taken: StepFailedError DR_FENCE_NOT_HOLDING. Refused for another reason, or no
 * session at all: DR_FENCE_UNVERIFIED (it says nothing either way).
 */
export async function verifyWritesRefused(database: PgInstance, timeoutMs = 10_000): Promise<FenceVerification> {
  const { host, port, user, database: name } = database.connection;
  const table = `drill_fence_check_${randomBytes(4).toString('hex')}`;
  const attempted = `create table ${table} (x int) (in a transaction rolled back)`;
  const client = new pg.Client({ ...database.connection, connectionTimeoutMillis: timeoutMs, query_timeout: timeoutMs });
  client.on('error', () => undefined);
  try {
    await client.connect();
  } catch (error) {
    throw new StepFailedError('DR_FENCE_UNVERIFIED', `could not open a new session to ${database.name} (${host}:${port}/${name}) to check that its writes are refused: ${(error as Error).message}; check that the DR primary is up and accepts connections`, { cause: error });
  }
  try {
    await client.query('begin');
    try {
      await client.query(`create table ${table} (x int)`);
    } catch (error) {
      const code = (error as { code?: string }).code ?? '';
      if (code === READ_ONLY_SQL_TRANSACTION) return { database: name, user, attempted, sqlstate: code, refusal: (error as Error).message };
      throw new StepFailedError(
        'DR_FENCE_UNVERIFIED',
        `the write that checks the fence on ${database.name} failed with ${code || 'no SQLSTATE'} (${(error as Error).message}), not 25006 read_only_sql_transaction: that does not show the fence holds; check the role ${user} may create tables in ${name}`,
        { cause: error },
      );
    }
    throw new StepFailedError(
      'DR_FENCE_NOT_HOLDING',
      `${database.name} took a write from a new session after the fence (${attempted} as ${user} in ${name}): default_transaction_read_only is not in effect there, so the DR primary could acknowledge writes the promoted primary never gets; look for ALTER DATABASE ${name} / ALTER ROLE ${user} SET default_transaction_read_only (they override the server's value) and reset them`,
    );
  } finally {
    await client.query('rollback').catch(() => undefined);
    await endClient(client);
  }
}
