import type { TableFacts } from '../engine/journal-types.js';
import { EnvironmentError } from '../engine/errors.js';
import type { ConnectionInfo } from '../targets/postgres/types.js';
import { withClient } from '../targets/postgres/with-client.js';
import { RELEASE_MIGRATIONS } from './migrations/index.js';
import { Migrator } from './migrations/migrator.js';
import { WORKLOAD_ACCOUNTS_SQL, WORKLOAD_ID_FLOOR } from './workload-accounts.js';

/** The tables the drill owns and checks: enough shape (keys, foreign keys, indexes) to be realistic. */
export const DATASET_TABLES = ['accounts', 'transfers'] as const;
export const CANARY_TABLE = 'drill_canary';

export interface DatasetSize {
  accounts: number;
  transfers: number;
}

export interface DatasetInfo {
  /** The schema version the release's migrations brought the database to. */
  schemaVersion: string;
  /** The migrations applied, oldest first. */
  migrations: string[];
}

/**
 * Creates the drill database, brings its schema to the release's newest version through the
 * release's migrations (as a deployment would), and seeds a deterministic data set (same rows
 * for the same size).
 */
export async function createDataset(admin: ConnectionInfo, size: DatasetSize): Promise<DatasetInfo> {
  // Only ever reached on a drill target, so a database left by an earlier run may go.
  await withClient(admin, async (c) => {
    await c.query('drop database if exists drill with (force)');
    await c.query('create database drill');
  });
  const drill = { ...admin, database: 'drill' };
  const migrator = new Migrator(drill, RELEASE_MIGRATIONS);
  const applied = await migrator.up().catch((error: unknown) => {
    throw new EnvironmentError('DATASET_MIGRATION_FAILED', `could not migrate the drill database: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  });
  const status = await migrator.status();
  await withClient(drill, async (c) => {
    // The harness's own instrument, not application schema: it stays out of the migrations.
    await c.query('create extension if not exists amcheck');
    await c.query(
      `insert into accounts
         select g, 'owner-' || g, (g * 7919 % 100000) / 100.0 + 100 from generate_series(1, $1) g`,
      [size.accounts],
    );
    await c.query(
      `insert into transfers (id, from_account, to_account, amount, created_at, reference)
         select g, 1 + (g * 31) % $2, 1 + (g * 17 + 5) % $2, 1 + (g * 104729 % 50000) / 100.0,
                timestamptz '2025-09-21 12:00:00+00' + g * interval '1 second', 'TR-' || lpad(g::text, 8, '0')
         from generate_series(1, $1) g`,
      [size.transfers, size.accounts],
    );
    // The workload's own accounts (ids from 1e9): not part of the seeded set the snapshot compares.
    await c.query(WORKLOAD_ACCOUNTS_SQL);
    // Planner statistics for the seeded tables; the catalogs' came with template1 (initdb analyzes it).
    await c.query('analyze accounts, transfers');
  });
  return { schemaVersion: status.current?.version ?? '000', migrations: applied };
}

/**
 * Row count and a content checksum per table, in primary-key order, for before/after comparison:
 * of the seeded rows only (ids below 1e9). Rows the workload writes (transfers the service
 * creates, the drill's own accounts) are judged by the canary ledger and the smoke test, so a
 * service writing during the drill is never mistaken for corruption.
 */
export async function tableFacts(connection: ConnectionInfo, tables: readonly string[] = DATASET_TABLES): Promise<Record<string, TableFacts>> {
  return withClient(connection, async (c) => {
    const facts: Record<string, TableFacts> = {};
    for (const table of tables) {
      const { rows } = await c.query<{ rows: string; checksum: string | null }>(
        `select count(*)::text as rows, md5(coalesce(string_agg(t::text, E'\\n' order by t.id), '')) as checksum from ${table} t where t.id < ${WORKLOAD_ID_FLOOR}`,
      );
      facts[table] = { rows: Number(rows[0]!.rows), checksum: rows[0]!.checksum ?? '' };
    }
    return facts;
  });
}

