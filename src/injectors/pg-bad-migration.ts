import createDebug from 'debug';
import type { DrillContext, FaultHandle } from '../engine/drill-context.js';
import { EnvironmentError, InputError } from '../engine/errors.js';
import type { Fault } from '../scenario/schema.js';
import { withClient } from '../targets/postgres/with-client.js';
import { Migrator } from '../workload/migrations/migrator.js';
import type { SchemaMigration } from '../workload/migrations/schema-migration.js';
import { markBeforeFault } from './before-fault-point.js';
import { requireDrillTarget } from '../engine/require-drill-target.js';
import { quoteIdent } from '../targets/postgres/sql-names.js';

const debug = createDebug('drill:inject');

type BadMigrationFault = Extract<Fault, { type: 'pg-bad-migration' }>;
export type SchemaChange = BadMigrationFault['change'];


export function describeChange(change: SchemaChange): string {
  switch (change.kind) {
    case 'rename-column':
      return `rename ${change.table}.${change.column} to ${change.to}`;
    case 'add-required-column':
      return `add required column ${change.table}.${change.column} without a default`;
    case 'drop-column':
      return `drop column ${change.table}.${change.column}`;
  }
}

/**
 * The migration a broken release ships, with the down step such a release would have.
 * `columnType` is the dropped column's type, which a drop-column's down step re-creates (empty:
 * the data is gone, which is the point of that change).
 */
export function badMigration(change: SchemaChange, version: string, columnType = 'text'): SchemaMigration {
  const name = `${version}-${change.kind}-${change.table}-${change.column}`.toLowerCase().replace(/[^a-z0-9-]+/g, '-');
  const table = quoteIdent(change.table);
  const column = quoteIdent(change.column);
  const description = describeChange(change);
  switch (change.kind) {
    case 'rename-column':
      return {
        name,
        description,
        up: async (c) => void (await c.query(`alter table ${table} rename column ${column} to ${quoteIdent(change.to)}`)),
        down: async (c) => void (await c.query(`alter table ${table} rename column ${quoteIdent(change.to)} to ${column}`)),
      };
    case 'add-required-column':
      // The usual way to add NOT NULL to a table with rows: fill them through a default, then
      // drop the default. Old code that does not name the column can no longer insert.
      return {
        name,
        description,
        up: async (c) => void (await c.query(`alter table ${table} add column ${column} text not null default ''; alter table ${table} alter column ${column} drop default`)),
        down: async (c) => void (await c.query(`alter table ${table} drop column ${column}`)),
      };
    case 'drop-column':
      return {
        name,
        description,
        up: async (c) => void (await c.query(`alter table ${table} drop column ${column}`)),
        down: async (c) => void (await c.query(`alter table ${table} add column ${column} ${columnType}`)),
      };
  }
}

/**
 * A new release's migration that breaks what the running application reads or writes, applied the
 * way a deployment applies it: shipped with the release (so the runbook's rollback knows its down
 * step) and run by the migration tool, versioned, recorded in schema_migrations. T_fault is when
 * it commits (the instant its commit was sent). Disposing it runs its down step if it is still
 * applied and withdraws it.
 */
export async function injectBadMigration(ctx: DrillContext, fault: BadMigrationFault): Promise<FaultHandle> {
  requireDrillTarget(ctx, 'pg-bad-migration');
  const instance = ctx.router.current;
  const conn = ctx.router.connection;
  const columnType = await checkChange(ctx, fault.change);

  // A point before the release lets a scenario compare rollback with a point-in-time restore.
  const beforeFault = await markBeforeFault(ctx, conn);

  const previousVersion = (await new Migrator(conn, ctx.migrations.all).status()).current?.version;
  const migration = badMigration(fault.change, ctx.migrations.nextVersion(), columnType);
  ctx.migrations.ship(migration);
  // The release's schema is in effect from its commit, which happens after the commit is sent.
  let committingAt: number | undefined;
  const onCommit = (name: string) => {
    if (name === migration.name) committingAt = ctx.clock.now();
  };
  try {
    await new Migrator(conn, ctx.migrations.all, { beforeCommit: onCommit }).up(migration.name);
    if (committingAt === undefined) throw new Error('the migration tool applied nothing');
  } catch (error) {
    ctx.migrations.withdraw(migration.name);
    throw new EnvironmentError(
      'BAD_MIGRATION_NOT_APPLIED',
      `pg-bad-migration: ${migration.name} could not be applied on ${instance.name}, so the fault is not in effect: ${error instanceof Error ? error.message : String(error)}`,
      { cause: error },
    );
  }
  debug('applied %s on %s', migration.name, instance.name);

  return {
    description: `bad migration ${migration.name} (${migration.description}) on ${instance.name}`,
    details: { migration: migration.name, previousVersion, change: fault.change, instance: instance.name, restorePointLsn: beforeFault.lsn },
    inEffectAt: committingAt,
    async [Symbol.asyncDispose]() {
      // The instance the migration went to, even after the application has moved elsewhere.
      const migrator = new Migrator(conn, ctx.migrations.all);
      const status = await migrator.status();
      if (status.applied.some((m) => m.name === migration.name)) await migrator.revert([migration.name]);
      ctx.migrations.withdraw(migration.name);
    },
  };
}

/** The change must fit the schema as it is, or the drill would test a typo; returns the column's type. */
async function checkChange(ctx: DrillContext, change: SchemaChange): Promise<string> {
  const columns = await withClient(ctx.router.connection, async (c) => {
    const { rows } = await c.query<{ column_name: string; type: string }>(
      `select a.attname as column_name, format_type(a.atttypid, a.atttypmod) as type
         from pg_attribute a join pg_class c on c.oid = a.attrelid join pg_namespace n on n.oid = c.relnamespace
        where n.nspname = 'public' and c.relname = $1 and c.relkind = 'r' and a.attnum > 0 and not a.attisdropped`,
      [change.table],
    );
    return new Map(rows.map((r) => [r.column_name, r.type]));
  });
  if (columns.size === 0) {
    throw new InputError('FAULT_TABLE_UNKNOWN', `pg-bad-migration: table "${change.table}" does not exist in the drill database (faults[].change.table)`);
  }
  const known = [...columns.keys()].join(', ');
  if (change.kind === 'add-required-column') {
    if (columns.has(change.column)) {
      throw new InputError('FAULT_COLUMN_EXISTS', `pg-bad-migration: ${change.table}.${change.column} already exists; add-required-column needs a new column name`);
    }
    return 'text';
  }
  const type = columns.get(change.column);
  if (type === undefined) {
    throw new InputError('FAULT_COLUMN_UNKNOWN', `pg-bad-migration: ${change.table} has no column "${change.column}" (it has ${known}) (faults[].change.column)`);
  }
  if (change.kind === 'rename-column' && columns.has(change.to)) {
    throw new InputError('FAULT_COLUMN_EXISTS', `pg-bad-migration: ${change.table}.${change.to} already exists; pick another name for faults[].change.to`);
  }
  return type;
}
