import type { TableFacts } from '../engine/journal-types.js';
import type { ConnectionInfo } from '../targets/postgres/types.js';
import { withClient } from '../targets/postgres/with-client.js';

/** The tables the drill owns and checks: enough shape (keys, foreign keys, indexes) to be realistic. */
export const DATASET_TABLES = ['accounts', 'transfers'] as const;
export const CANARY_TABLE = 'drill_canary';

export interface DatasetSize {
  accounts: number;
  transfers: number;
}

/** Creates the drill database and a deterministic data set in it (same rows for the same size). */
export async function createDataset(admin: ConnectionInfo, size: DatasetSize): Promise<void> {
  // Only ever reached on a drill target, so a database left by an earlier run may go.
  await withClient(admin, async (c) => {
    await c.query('drop database if exists drill with (force)');
    await c.query('create database drill');
  });
  await withClient({ ...admin, database: 'drill' }, async (c) => {
    await c.query(`
      create table accounts (
        id bigint primary key,
        owner text not null,
        balance numeric(14,2) not null check (balance >= 0)
      );
      create table transfers (
        id bigint primary key,
        from_account bigint not null references accounts(id),
        to_account bigint not null references accounts(id),
        amount numeric(14,2) not null check (amount > 0),
        created_at timestamptz not null
      );
      create index transfers_from_idx on transfers(from_account);
      create index transfers_to_idx on transfers(to_account);
      create table ${CANARY_TABLE} (
        id bigint primary key,
        epoch int not null,
        payload text not null,
        checksum text not null,
        client_ts timestamptz not null,
        server_ts timestamptz not null default clock_timestamp()
      );
      create extension if not exists amcheck;`);
    await c.query(
      `insert into accounts
         select g, 'owner-' || g, (g * 7919 % 100000) / 100.0 + 100 from generate_series(1, $1) g`,
      [size.accounts],
    );
    await c.query(
      `insert into transfers
         select g, 1 + (g * 31) % $2, 1 + (g * 17 + 5) % $2, 1 + (g * 104729 % 50000) / 100.0,
                timestamptz '2025-09-21 12:00:00+00' + g * interval '1 second'
         from generate_series(1, $1) g`,
      [size.transfers, size.accounts],
    );
    await c.query('analyze');
  });
}

/** Row count and a content checksum per table, in primary-key order, for before/after comparison. */
export async function tableFacts(connection: ConnectionInfo, tables: readonly string[] = DATASET_TABLES): Promise<Record<string, TableFacts>> {
  return withClient(connection, async (c) => {
    const facts: Record<string, TableFacts> = {};
    for (const table of tables) {
      const { rows } = await c.query<{ rows: string; checksum: string | null }>(
        `select count(*)::text as rows, md5(coalesce(string_agg(t::text, E'\\n' order by t.id), '')) as checksum from ${table} t`,
      );
      facts[table] = { rows: Number(rows[0]!.rows), checksum: rows[0]!.checksum ?? '' };
    }
    return facts;
  });
}

