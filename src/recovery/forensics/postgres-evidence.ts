import { readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import type { DrillContext } from '../../engine/drill-context.js';
import { findPostgresBinaries } from '../../targets/postgres/binaries.js';
import { PgPassFile } from '../../targets/postgres/pgpass-file.js';
import { withClient } from '../../targets/postgres/with-client.js';
import { runCommand } from '../../targets/process/run-command.js';
import type { ForensicCollector } from './collected-file.js';
import { createRecordedTempDir } from '../../engine/recorded-temp-dir.js';

const noDatabase = (ctx: DrillContext) => (ctx.has('pg') ? undefined : 'the scenario has no PostgreSQL (targets.postgres)');

/** The server log of the instance the application uses (native: with connections and disconnections, log_connections is on). */
export const postgresLogs: ForensicCollector = {
  kind: 'postgres-logs',
  unavailable: (ctx) => noDatabase(ctx) ?? (ctx.router.current.readServerLog ? undefined : `the server log of ${ctx.router.current.name} is not readable by the harness (only a native server's is)`),
  async collect(ctx) {
    const instance = ctx.router.current;
    return [{ name: `postgresql-${instance.name}.log`, text: await instance.readServerLog!(), json: false, how: `copy of the server log of PostgreSQL instance ${instance.name}` }];
  },
};

/** Who was connected to the application's database at that moment (the attacker's open session among them): pg_stat_activity. */
export const databaseSessions: ForensicCollector = {
  kind: 'database-sessions',
  unavailable: noDatabase,
  async collect(ctx) {
    const { rows } = await withClient(ctx.router.connection, (c) =>
      c.query(
        `select pid, usename, application_name, client_addr::text, client_port, backend_start, xact_start, state_change, state, backend_type, left(query, 500) as query
           from pg_stat_activity where datname = current_database() and pid <> pg_backend_pid() order by backend_start, pid`,
      ),
    );
    const { host, port, database } = ctx.router.connection;
    return [{ name: 'database-sessions.json', text: JSON.stringify(rows, null, 2), json: true, how: `pg_stat_activity of database ${database} on ${host}:${port}` }];
  },
};

/**
 * A logical forensic snapshot of the application's data as it was before anything was revoked or
 * restarted: pg_dump (plain SQL) of the public schema. The password reaches pg_dump through a
 * pgpass file in a temp directory of its own (never its command line or environment), removed
 * afterwards and in the ledger until then.
 */
export const databaseSnapshot: ForensicCollector = {
  kind: 'database-snapshot',
  unavailable: (ctx) => noDatabase(ctx) ?? (findPostgresBinaries().has('pg_dump') ? undefined : 'pg_dump is not installed beside the PostgreSQL binaries'),
  async collect(ctx) {
    const binaries = findPostgresBinaries();
    const connection = ctx.router.connection;
    // In the ledger before it exists: it will hold the pgpass file.
    const dir = createRecordedTempDir(ctx.ledger, 'drill-forensics-');
    try {
      const passfile = new PgPassFile(path.join(dir, 'pgpass'), undefined);
      if (connection.password !== undefined) passfile.add({ host: connection.host, port: connection.port, user: connection.user, password: connection.password });
      const out = path.join(dir, 'dump.sql');
      const args = ['-h', connection.host, '-p', String(connection.port), '-U', connection.user, '-d', connection.database, '--schema=public', '--no-owner', '-f', out];
      await runCommand(binaries.path('pg_dump'), [...args, '--no-password'], { env: { ...passfile.env, PGCONNECT_TIMEOUT: '15' }, signal: ctx.signal, timeoutMs: 120_000 });
      const version = (await runCommand(binaries.path('pg_dump'), ['--version'])).stdout.trim();
      return [{ name: 'database-public.sql', text: await readFile(out, 'utf8'), json: false, how: `${version} --schema=public of database ${connection.database} on ${connection.host}:${connection.port}` }];
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  },
};
