import { sleep } from '../engine/clock.js';
import { StepFailedError } from '../engine/errors.js';
import type { PgInstance } from '../targets/postgres/types.js';
import { withClient } from '../targets/postgres/with-client.js';

/** Waits until an instance has left recovery and accepts writes; returns its WAL position. */
export async function waitForPromotion(instance: PgInstance, timeoutMs: number, signal: AbortSignal): Promise<{ lsn: string; timeline: number }> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const state = await withClient({ ...instance.connection, database: 'postgres' }, async (c) => {
      const { rows } = await c.query<{ rec: boolean; lsn: string; tli: number }>(
        `select pg_is_in_recovery() as rec,
                case when pg_is_in_recovery() then pg_last_wal_replay_lsn() else pg_current_wal_lsn() end::text as lsn,
                (select timeline_id from pg_control_checkpoint()) as tli`,
      );
      return rows[0]!;
    }).catch(() => undefined);
    if (state && !state.rec) return { lsn: state.lsn, timeline: state.tli };
    if (Date.now() > deadline) {
      throw new StepFailedError('PROMOTION_TIMEOUT', `${instance.name} was still in recovery after ${timeoutMs} ms`);
    }
    await sleep(100, signal);
  }
}
