import createDebug from 'debug';
import type { DrillContext, RestorePoint } from '../engine/drill-context.js';
import { createRestorePoint } from '../targets/postgres/restore-point.js';
import type { ConnectionInfo } from '../targets/postgres/types.js';
import { withClient } from '../targets/postgres/with-client.js';

const debug = createDebug('drill:inject');

export const BEFORE_FAULT = 'before-fault';
const RESTORE_POINT_NAME = 'drill-before-fault';

/**
 * Records, just before a fault, every kind of target point-in-time recovery can aim at: a server
 * time, a transaction id, a named restore point and its LSN. In that order, so each of them stops
 * replay before the fault and after every write the application committed before the time:
 *  - time: stop before the first commit at or after it (recovery_target_inclusive = false);
 *  - xid: a transaction of its own (txid_current() makes it write a commit record), replay stops
 *    right after it commits;
 *  - name / lsn: the restore point, written (and its WAL segment switched out to the archive) after
 *    that commit.
 * The first fault of a drill sets it; later faults keep it, so "before-fault" is before all of them.
 */
export async function markBeforeFault(ctx: DrillContext, conn: ConnectionInfo): Promise<RestorePoint> {
  const existing = ctx.restorePoints.get(BEFORE_FAULT);
  if (existing) return existing;
  const { xid, time } = await withClient(conn, async (c) => {
    const { rows } = await c.query<{ xid: string; time: string }>(
      `select txid_current()::text as xid,
              to_char(clock_timestamp() at time zone 'UTC', 'YYYY-MM-DD HH24:MI:SS.US') || '+00' as time`,
    );
    return rows[0]!;
  });
  const lsn = await createRestorePoint(conn, RESTORE_POINT_NAME);
  await waitUntilArchived(conn, lsn);
  const point: RestorePoint = { name: RESTORE_POINT_NAME, lsn, t: ctx.clock.now(), xid, time };
  ctx.restorePoints.set(BEFORE_FAULT, point);
  ctx.recorder.event('restore-point', `before the fault: restore point ${RESTORE_POINT_NAME} at ${lsn}, xid ${xid}, time ${time}`, { lsn, xid, time });
  return point;
}

/**
 * Waits (briefly) until the WAL segment holding `lsn` is in the archive: a restore that starts
 * before the archiver has copied it would end its replay short of the point.
 */
async function waitUntilArchived(conn: ConnectionInfo, lsn: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  await withClient(conn, async (c) => {
    for (;;) {
      const { rows } = await c.query<{ done: boolean }>(
        `select coalesce(last_archived_wal >= pg_walfile_name($1::pg_lsn), false) as done from pg_stat_archiver`,
        [lsn],
      );
      if (rows[0]?.done) return;
      if (Date.now() > deadline) {
        debug('segment of %s not archived after %d ms; going on; a restore soon after may stop short of it', lsn, timeoutMs);
        return;
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  });
}
