import createDebug from 'debug';
import type pg from 'pg';
import { Umzug } from 'umzug';
import type { ConnectionInfo } from '../../targets/postgres/types.js';
import { withClient } from '../../targets/postgres/with-client.js';
import { MigrationError } from './migration-error.js';
import { appliedRows, ensureMigrationsTable, pgMigrationStorage } from './pg-migration-storage.js';
import { byVersion, versionNumber, versionOf, type SchemaMigration } from './schema-migration.js';

const debug = createDebug('drill:migrate');

/** One advisory lock for every migrator, so two never change the schema at once (node-pg-migrate does the same). */
const MIGRATION_LOCK = 7_411_002;
/** A migration waits this long for its table locks, then fails instead of stalling the application behind it. */
const LOCK_TIMEOUT = '10s';
const COMMAND_TIMEOUT_MS = 120_000;

export interface AppliedMigration {
  name: string;
  version: string;
  appliedAt: string;
}

export interface MigratorHooks {
  /** Called just before a migration's transaction is committed (its change is visible from then on, not before). */
  beforeCommit?: (migration: string) => void;
}

export interface MigrationStatus {
  /** The highest applied version; undefined on an empty schema. */
  current?: { version: string; name: string };
  /** Oldest first. */
  applied: AppliedMigration[];
  /** Shipped by the release, not applied; oldest first. */
  pending: string[];
  /** Applied, but not shipped by this release: it cannot run their down steps. */
  unknown: string[];
}

/**
 * `migrate:up`, `migrate:rollback --to-version`, `migrate:status` for one database and one
 * release's migrations, through umzug. Every command holds the migration lock; every migration
 * runs in its own transaction together with its record in `schema_migrations`.
 */
export class Migrator {
  private readonly migrations: readonly SchemaMigration[];

  constructor(
    private readonly connection: ConnectionInfo,
    migrations: readonly SchemaMigration[],
    private readonly hooks: MigratorHooks = {},
  ) {
    this.migrations = [...migrations].sort(byVersion);
  }

  /** Applies pending migrations, all or up to and including the named version. Returns the names applied. */
  async up(to?: string): Promise<string[]> {
    const target = to === undefined ? undefined : this.resolve(to).name;
    return this.command(async (umzug) => (await umzug.up(target ? { to: target } : {})).map((m) => m.name));
  }

  /**
   * Runs down steps, newest first, until the named version is the current one. Returns the names
   * reverted (none when it already is).
   */
  async downTo(version: string): Promise<string[]> {
    const target = this.resolve(version);
    return this.command(async (umzug, client) => {
      const status = await this.readStatus(client);
      const targetNumber = versionNumber(target.name);
      if (!status.applied.some((m) => m.name === target.name)) {
        throw new MigrationError(
          'MIGRATION_NOT_APPLIED',
          `cannot roll back to ${target.name}: it is not applied (applied: ${status.applied.map((m) => m.name).join(', ') || 'none'})`,
        );
      }
      const blocking = status.unknown.filter((name) => versionNumber(name) > targetNumber);
      if (blocking.length > 0) {
        throw new MigrationError(
          'MIGRATION_NOT_IN_RELEASE',
          `cannot roll back to ${target.name}: ${blocking.join(', ')} ${blocking.length === 1 ? 'is' : 'are'} applied but not shipped by the deployed release, ` +
            'so their down steps are unknown; run the rollback from the release that applied them',
        );
      }
      const newer = status.applied.filter((m) => versionNumber(m.name) > targetNumber);
      if (newer.length === 0) return [];
      return (await umzug.down({ to: newer[0]!.name })).map((m) => m.name);
    });
  }

  /** Runs the down steps of exactly these applied migrations (newest first), e.g. to clean up after a drill. */
  async revert(names: string[]): Promise<string[]> {
    const ordered = [...names].sort((a, b) => versionNumber(b) - versionNumber(a));
    return this.command(async (umzug) => (await umzug.down({ migrations: ordered })).map((m) => m.name));
  }

  async status(): Promise<MigrationStatus> {
    return this.command(async (_umzug, client) => this.readStatus(client));
  }

  /** The release's migration a version (`004`, `4`) or full name (`004-transfer-reference`) stands for. */
  resolve(spec: string): SchemaMigration {
    const found = /^\d+$/.test(spec)
      ? this.migrations.find((m) => versionNumber(m.name) === Number(spec))
      : this.migrations.find((m) => m.name === spec);
    if (!found) {
      throw new MigrationError(
        'MIGRATION_VERSION_UNKNOWN',
        `no migration "${spec}" in the deployed release; it ships ${this.migrations.map((m) => m.name).join(', ')}`,
      );
    }
    return found;
  }

  private async readStatus(client: pg.ClientBase): Promise<MigrationStatus> {
    const rows = (await appliedRows(client)).sort(byVersion);
    const shipped = new Set(this.migrations.map((m) => m.name));
    const appliedNames = new Set(rows.map((r) => r.name));
    const newest = rows.at(-1);
    return {
      ...(newest ? { current: { version: versionOf(newest.name), name: newest.name } } : {}),
      applied: rows.map((r) => ({ name: r.name, version: versionOf(r.name), appliedAt: r.appliedAt })),
      pending: this.migrations.filter((m) => !appliedNames.has(m.name)).map((m) => m.name),
      unknown: rows.filter((r) => !shipped.has(r.name)).map((r) => r.name),
    };
  }

  private async command<T>(run: (umzug: Umzug<pg.ClientBase>, client: pg.ClientBase) => Promise<T>): Promise<T> {
    let rolledBack = false;
    try {
      return await this.locked(run, () => (rolledBack = true));
    } catch (error) {
      if (error instanceof MigrationError) throw error;
      const message = error instanceof Error ? error.message : String(error);
      throw new MigrationError('MIGRATION_FAILED', `${message}${rolledBack ? ' (its transaction was rolled back)' : ''}`, { cause: error });
    }
  }

  private locked<T>(run: (umzug: Umzug<pg.ClientBase>, client: pg.ClientBase) => Promise<T>, onRollback: () => void): Promise<T> {
    return withClient(
      this.connection,
      async (client) => {
        await client.query('select pg_advisory_lock($1)', [MIGRATION_LOCK]);
        let inTransaction = false;
        const begin = async () => {
          await client.query('begin');
          inTransaction = true;
          await client.query(`set local lock_timeout = '${LOCK_TIMEOUT}'`);
        };
        const commit = async ({ name }: { name: string }) => {
          this.hooks.beforeCommit?.(name);
          await client.query('commit');
          inTransaction = false;
        };
        try {
          await ensureMigrationsTable(client);
          const umzug = new Umzug<pg.ClientBase>({
            migrations: this.migrations.map((m) => ({
              name: m.name,
              up: ({ context }) => m.up(context),
              down: ({ context }) => m.down(context),
            })),
            context: client,
            storage: pgMigrationStorage,
            logger: { info: log, warn: log, error: log, debug: log },
          });
          // umzug records a migration between these events, so the record is inside the transaction.
          umzug.on('migrating', begin);
          umzug.on('reverting', begin);
          umzug.on('migrated', commit);
          umzug.on('reverted', commit);
          return await run(umzug, client);
        } catch (error) {
          if (inTransaction) {
            await client.query('rollback').catch(() => undefined);
            onRollback();
          }
          throw error;
        } finally {
          await client.query('select pg_advisory_unlock($1)', [MIGRATION_LOCK]).catch(() => undefined);
        }
      },
      COMMAND_TIMEOUT_MS,
    );
  }
}

function log(event: Record<string, unknown>): void {
  debug('%o', event);
}
