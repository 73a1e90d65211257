import pg from 'pg';
import type { ServiceConfig } from './config.js';
import type { Logger } from './logger.js';
import type { ServiceMetrics } from './metrics.js';

/** Something that runs SQL: a pool, a pooled client, or a client the harness holds. */
export interface Queryable {
  query<R extends pg.QueryResultRow = pg.QueryResultRow>(text: string, values?: unknown[]): Promise<pg.QueryResult<R>>;
}

/**
 * The service's connection pool. Short connect and query timeouts: a database that is down or
 * hung must turn into a 503 within a probe's timeout, not a request that hangs.
 */
export function createPool(config: ServiceConfig, logger: Logger, metrics: ServiceMetrics): pg.Pool {
  const pool = new pg.Pool({
    connectionString: config.databaseUrl,
    max: 10,
    connectionTimeoutMillis: 2_000,
    idleTimeoutMillis: 10_000,
    query_timeout: 5_000,
    application_name: `truststream-${config.mode}`,
  });
  // An idle client whose server went away emits here; without a listener the process would crash.
  pool.on('error', (error) => {
    metrics.databaseErrors.inc({ operation: 'idle-connection' });
    logger.error({ err: messageOf(error) }, 'database connection lost');
  });
  return pool;
}

/** Runs `fn` in one transaction on one pooled client: COMMIT when it returns, ROLLBACK when it throws. */
export async function inTransaction<T>(pool: pg.Pool, fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  let broken = false;
  try {
    await client.query('begin');
    const result = await fn(client);
    await client.query('commit');
    return result;
  } catch (error) {
    await client.query('rollback').catch(() => (broken = true));
    throw error;
  } finally {
    // A client whose rollback failed is not given back to the pool for reuse.
    client.release(broken);
  }
}

/** Errors that mean "the database is not there" (a 503), as opposed to a defect in a query (a 500). */
export function isUnavailable(error: unknown): boolean {
  const code = (error as { code?: string } | undefined)?.code ?? '';
  const message = messageOf(error);
  return (
    ['ECONNREFUSED', 'ECONNRESET', 'ENOTFOUND', 'ETIMEDOUT', 'EHOSTUNREACH', 'EPIPE'].includes(code) ||
    // 57P01 admin shutdown, 57P02 crash shutdown, 57P03 cannot connect now, 08xxx connection exceptions
    /^(57P0[1-3]|08)/.test(code) ||
    /timeout exceeded when trying to connect|Connection terminated|Query read timeout|connection timeout/i.test(message)
  );
}

/** A failure of the database or of a query (counted as a database error), as opposed to a defect in the service's own code. */
export function isDatabaseError(error: unknown): boolean {
  return error instanceof pg.DatabaseError || isUnavailable(error);
}

/** The database refused a write because it is read-only (a read-only transaction or a role without the privilege). */
export function isWriteRefused(error: unknown): boolean {
  const code = (error as { code?: string } | undefined)?.code ?? '';
  return code === '25006' || code === '42501';
}

export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
