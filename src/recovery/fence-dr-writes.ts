import type pg from 'pg';
import { sleep } from '../engine/clock.js';
import { adminConnection } from '../targets/postgres/sql-names.js';
import type { PgInstance } from '../targets/postgres/types.js';
import { withClient } from '../targets/postgres/with-client.js';

/**
 * How long after pg_reload_conf() the fence instant is taken: the postmaster forwards the reload
 * to every backend asynchronously, and a transaction begun before a backend has it is read-write.
 */
const RELOAD_GRACE_MS = 300;

/** A client transaction open on the fenced server (pg_stat_activity). */
export interface OpenTransaction {
  pid: number;
  /** Server clock, ms since the epoch. */
  xactStart: number;
  state: string;
}

/**
 * The transactions that may still commit a write after the fence: those begun at or before it
 * (their read-write mode was fixed when they began). One begun later is read-only.
 */
export function writableAfterFence(open: readonly OpenTransaction[], fencedAt: number): OpenTransaction[] {
  return open.filter((t) => t.xactStart <= fencedAt);
}

export interface FenceResult {
  /** The WAL position once nothing can commit a write any more: what the rebuilt primary must replay. */
  lsn: string;
  /** Transactions begun before the fence that ended by themselves while it waited. */
  drained: number;
  /** Those still open when the wait ran out: their sessions were terminated (the write is not acknowledged). */
  terminated: number[];
  /**
   * Every other client session open at the fence, terminated once the drain ended: a session keeps
   * a `SET default_transaction_read_only = off` (or an ALTER ROLE/DATABASE value) over the reload,
   * so only a new session is sure to be under the fence. Clients reconnect, read-only.
   */
  disconnected: number[];
  waitedMs: number;
}

async function openTransactions(c: pg.Client): Promise<OpenTransaction[]> {
  const { rows } = await c.query<{ pid: number; xs: number; state: string }>(
    `select pid, (extract(epoch from xact_start) * 1000)::float8 as xs, coalesce(state, '') as state
       from pg_stat_activity
      where backend_type = 'client backend' and pid <> pg_backend_pid() and xact_start is not null`,
  );
  return rows.map((r) => ({ pid: r.pid, xactStart: r.xs, state: r.state }));
}

/**
 * Client sessions other than this one (`client backend` only: walsenders, the replication that
 * carries the fence's last writes to the rebuilt primary, and background workers are not clients).
 */
async function otherClientSessions(c: pg.Client): Promise<number[]> {
  const { rows } = await c.query<{ pid: number }>(`select pid from pg_stat_activity where backend_type = 'client backend' and pid <> pg_backend_pid()`);
  return rows.map((r) => r.pid);
}

async function terminate(c: pg.Client, pids: readonly number[]): Promise<number[]> {
  const done: number[] = [];
  for (const pid of pids) if ((await c.query<{ ok: boolean }>('select pg_terminate_backend($1, 5000) as ok', [pid])).rows[0]!.ok) done.push(pid);
  return done;
}

/**
 * The switchover's "stop writes on the DR side": the DR primary is made read-only for every new
 * transaction (default_transaction_read_only, ALTER SYSTEM + reload, so the DR service keeps
 * serving reads and its writes are refused), then the transactions begun before that are waited
 * for (bounded by `drainMs`; what is still open then is terminated, so it cannot commit behind the
 * fence), then every other client session is terminated: one that had set the parameter off for
 * itself would keep writing, and only a session started after the reload surely has the fence's
 * value. Its WAL position after that is final for committed writes. The server keeps running: the
 * DR region answers reads (its clients reconnect) until clients move. Whether a new session's
 * write is refused is checked apart (verify-fence.ts).
 */
export async function fenceWrites(database: PgInstance, drainMs: number, signal: AbortSignal): Promise<FenceResult> {
  return withClient(adminConnection(database), async (c) => {
    await c.query('alter system set default_transaction_read_only = on');
    await c.query('select pg_reload_conf()');
    await sleep(RELOAD_GRACE_MS, signal);
    const fencedAt = Number((await c.query<{ now: number }>('select (extract(epoch from clock_timestamp()) * 1000)::float8 as now')).rows[0]!.now);
    const started = Date.now();
    let pending = writableAfterFence(await openTransactions(c), fencedAt);
    const initially = pending.length;
    while (pending.length > 0 && Date.now() - started < drainMs) {
      await sleep(50, signal);
      pending = writableAfterFence(await openTransactions(c), fencedAt);
    }
    const terminated = await terminate(c, pending.map((t) => t.pid));
    const disconnected = await terminate(c, (await otherClientSessions(c)).filter((pid) => !terminated.includes(pid)));
    const lsn = (await c.query<{ lsn: string }>('select pg_current_wal_lsn()::text as lsn')).rows[0]!.lsn;
    return { lsn, drained: initially - pending.length, terminated, disconnected, waitedMs: Date.now() - started };
  }, drainMs + 20_000);
}
