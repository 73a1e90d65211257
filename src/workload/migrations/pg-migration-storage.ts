import type pg from 'pg';
import type { UmzugStorage } from 'umzug';

/** Where applied migrations are recorded, in the database they changed (as node-pg-migrate and Rails do). */
export const MIGRATIONS_TABLE = 'schema_migrations';

export async function ensureMigrationsTable(client: pg.ClientBase): Promise<void> {
  // Looked up first: even CREATE ... IF NOT EXISTS is refused in read-only mode (after stop-writes),
  // and `migrate:status` must still work there.
  const { rows } = await client.query<{ t: string | null }>(`select to_regclass('${MIGRATIONS_TABLE}')::text as t`);
  if (rows[0]?.t) return;
  await client.query(
    `create table if not exists ${MIGRATIONS_TABLE} (
       name text primary key,
       applied_at timestamptz not null default clock_timestamp()
     )`,
  );
}

export interface AppliedRow {
  name: string;
  appliedAt: string;
}

export async function appliedRows(client: pg.ClientBase): Promise<AppliedRow[]> {
  const { rows } = await client.query<{ name: string; applied_at: Date }>(`select name, applied_at from ${MIGRATIONS_TABLE}`);
  return rows.map((r) => ({ name: r.name, appliedAt: r.applied_at.toISOString() }));
}

/**
 * umzug's storage contract over that table. It writes on the migrator's own connection, inside
 * the transaction that runs the migration, so the record and the change commit together.
 */
export const pgMigrationStorage: UmzugStorage<pg.ClientBase> = {
  async logMigration({ name, context }) {
    await context.query(`insert into ${MIGRATIONS_TABLE} (name) values ($1)`, [name]);
  },
  async unlogMigration({ name, context }) {
    await context.query(`delete from ${MIGRATIONS_TABLE} where name = $1`, [name]);
  },
  async executed({ context }) {
    return (await appliedRows(context)).map((r) => r.name);
  },
};
