import createDebug from 'debug';
import type { DrillContext } from '../engine/drill-context.js';
import { StepFailedError } from '../engine/errors.js';
import { requireDrillTarget } from '../engine/require-drill-target.js';
import type { RecoveryStep } from '../scenario/schema.js';
import type { ConnectionInfo } from '../targets/postgres/types.js';
import { withClient } from '../targets/postgres/with-client.js';

const debug = createDebug('drill:recovery');

/** Ids of the transfers the service created (its own sequence starts there); seed rows are never touched. */
const SERVICE_IDS_FROM = 1_000_000_000;

/**
 * The data repair after a clock skew, for a release that stamped transfers with its host's clock:
 * each service-created transfer whose created_at is further than `within` from its outbox entry's
 * enqueued_at (written by the database's clock in the same transaction) gets that enqueued_at. The
 * outbox is the database's own record of when the transfer was committed, so nothing is guessed.
 * Postcondition, read back independently (see `readBack`). On a drill target only (it rewrites rows).
 */
export async function clockRestamp(ctx: DrillContext, step: Extract<RecoveryStep, { step: 'clock-restamp' }>): Promise<Record<string, unknown>> {
  requireDrillTarget(ctx, 'clock-restamp');
  const seconds = step.within / 1000;
  const fixed = await withClient(ctx.router.connection, (c) =>
    c.query<{ id: string; was: Date; now: Date }>(
      `with off as (
         select t.id, t.created_at as was, q.enqueued_at
           from transfers t join transfer_queue q on q.transfer_id = t.id
          where t.id >= $1 and abs(extract(epoch from t.created_at - q.enqueued_at)) > $2
            for update of t
       )
       update transfers t set created_at = off.enqueued_at from off where t.id = off.id
       returning t.id::text, off.was, t.created_at as now`,
      [SERVICE_IDS_FROM, seconds],
    ),
  );
  const check = await readBack(ctx.router.connection, step.within, new Map(fixed.rows.map((r) => [r.id, r.now.getTime()])));
  debug('clock-restamp: %d re-stamped, read back: %o', fixed.rows.length, check);
  if (check.wrong.length > 0 || check.changed.length > 0) {
    const parts = [
      ...(check.wrong.length > 0 ? [`${check.wrong.length} of ${check.checked} service transfers still carry a created_at more than ${seconds} s from their outbox entry's enqueued_at (ids ${describeIds(check.wrong)})`] : []),
      ...(check.changed.length > 0 ? [`${check.changed.length} re-stamped transfers no longer hold the created_at the re-stamp wrote (ids ${describeIds(check.changed)})`] : []),
    ];
    throw new StepFailedError('TIMESTAMPS_STILL_WRONG', `after the re-stamp, read back through a new connection: ${parts.join('; ')}; look for a trigger, rule or writer on transfers that rewrites created_at`);
  }
  const offsets = fixed.rows.map((r) => r.was.getTime() - r.now.getTime());
  return {
    restamped: fixed.rows.length,
    ...(fixed.rows.length > 0
      ? { ids: { first: Math.min(...fixed.rows.map((r) => Number(r.id))), last: Math.max(...fixed.rows.map((r) => Number(r.id))) }, offsetMs: { min: Math.min(...offsets), max: Math.max(...offsets) } }
      : {}),
    readBack: { checked: check.checked, withoutOutbox: check.withoutOutbox },
  };
}

interface ReadBack {
  /** Service transfers with an outbox entry that were read back. */
  checked: number;
  /** Service transfers without one: nothing to compare them with (the re-stamp leaves them alone). */
  withoutOutbox: number;
  /** Ids still further than the tolerance from their outbox entry. */
  wrong: string[];
  /** Ids the UPDATE re-stamped whose stored created_at is no longer what it returned. */
  changed: string[];
}

/**
 * The postcondition, not the UPDATE's own WHERE run again: after the UPDATE committed, a new
 * connection reads what is stored (after any trigger, rule or concurrent writer on transfers) for
 * every service transfer and its outbox entry, and the drill compares them itself: each must be
 * within the tolerance of its enqueued_at, and each row the UPDATE re-stamped must still hold the
 * value the UPDATE returned for it.
 */
async function readBack(connection: ConnectionInfo, withinMs: number, written: ReadonlyMap<string, number>): Promise<ReadBack> {
  const rows = await withClient(connection, async (c) =>
    (
      await c.query<{ id: string; created_at: Date; enqueued_at: Date | null }>(
        `select t.id::text, t.created_at, q.enqueued_at
           from transfers t left join transfer_queue q on q.transfer_id = t.id
          where t.id >= $1`,
        [SERVICE_IDS_FROM],
      )
    ).rows,
  );
  const result: ReadBack = { checked: 0, withoutOutbox: 0, wrong: [], changed: [] };
  for (const row of rows) {
    const stored = row.created_at.getTime();
    const expected = written.get(row.id);
    if (expected !== undefined && expected !== stored) result.changed.push(row.id);
    if (!row.enqueued_at) {
      result.withoutOutbox++;
      continue;
    }
    result.checked++;
    if (Math.abs(stored - row.enqueued_at.getTime()) > withinMs) result.wrong.push(row.id);
  }
  return result;
}

/** "1000000003, 1000000007 … (12)", for messages: a few ids, never thousands. */
function describeIds(ids: readonly string[]): string {
  const sorted = [...ids].sort((a, b) => Number(a) - Number(b));
  return sorted.length <= 5 ? sorted.join(', ') : `${sorted.slice(0, 5).join(', ')} … (${sorted.length})`;
}
