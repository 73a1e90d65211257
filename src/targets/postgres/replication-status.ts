import type pg from 'pg';

/**
 * What the servers themselves say about streaming replication, over SQL only, so injectors,
 * recovery steps and the monitor read the same figures whatever the provider.
 */

/** A standby's own view of how far it has got (pg_last_wal_receive_lsn / pg_last_wal_replay_lsn). */
export interface StandbyPosition {
  inRecovery: boolean;
  /** Last WAL position received and flushed from the primary (null before the first byte arrives). */
  receiveLsn: string | null;
  /** Last WAL position replayed; after promotion it stays at the last position replayed in recovery. */
  replayLsn: string | null;
  /** Seconds since the newest replayed commit was made on the primary (server clocks), null before any. */
  replayAgeSeconds: number | null;
  /** pg_stat_wal_receiver.status: 'streaming' while a WAL receiver runs, null when none does. */
  walReceiver: string | null;
}

export async function standbyPosition(client: pg.Client): Promise<StandbyPosition> {
  const { rows } = await client.query<{ rec: boolean; recv: string | null; replay: string | null; age: number | null; wr: string | null }>(
    `select pg_is_in_recovery() as rec,
            pg_last_wal_receive_lsn()::text as recv,
            pg_last_wal_replay_lsn()::text as replay,
            extract(epoch from clock_timestamp() - pg_last_xact_replay_timestamp())::float8 as age,
            (select status from pg_stat_wal_receiver limit 1) as wr`,
  );
  const row = rows[0]!;
  return { inRecovery: row.rec, receiveLsn: row.recv, replayLsn: row.replay, replayAgeSeconds: row.age, walReceiver: row.wr };
}

/** One row of pg_stat_replication on a primary: a connected standby. */
export interface ReplicationRow {
  /** application_name: the harness sets it to the replica's name. */
  name: string;
  state: string;
  syncState: string;
  sentLsn: string | null;
  flushLsn: string | null;
  replayLsn: string | null;
  /** pg_stat_replication.replay_lag in seconds (null when the standby has been idle). */
  replayLagSeconds: number | null;
}

export async function replicationRows(client: pg.Client): Promise<ReplicationRow[]> {
  const { rows } = await client.query<{
    name: string; state: string; sync: string; sent: string | null; flush: string | null; replay: string | null; lag: number | null;
  }>(
    `select application_name as name, state, sync_state as sync, sent_lsn::text as sent, flush_lsn::text as flush,
            replay_lsn::text as replay, extract(epoch from replay_lag)::float8 as lag
       from pg_stat_replication`,
  );
  return rows.map((r) => ({
    name: r.name,
    state: r.state,
    syncState: r.sync,
    sentLsn: r.sent,
    flushLsn: r.flush,
    replayLsn: r.replay,
    replayLagSeconds: r.lag,
  }));
}

/** Where the primary's WAL ends now (written, not necessarily flushed). */
export async function currentWalLsn(client: pg.Client): Promise<string> {
  return (await client.query<{ lsn: string }>('select pg_current_wal_lsn()::text as lsn')).rows[0]!.lsn;
}
