import type { DrillContext } from '../engine/drill-context.js';
import { StepFailedError } from '../engine/errors.js';
import { requireDrillTarget } from '../engine/require-drill-target.js';
import type { RecoveryStep } from '../scenario/schema.js';
import { withClient } from '../targets/postgres/with-client.js';

/** Ids of the transfers the service created (its own sequence starts there); seed rows are never touched. */
const SERVICE_IDS_FROM = 1_000_000_000;

/**
 * The data repair after a clock skew, for a release that stamped transfers with its host's clock:
 * each service-created transfer whose created_at is further than `within` from its outbox entry's
 * enqueued_at (written by the database's clock in the same transaction) gets that enqueued_at. The
 * outbox is the database's own record of when the transfer was committed, so nothing is guessed.
 * Postcondition: no service transfer is further than `within` from its outbox entry. On a drill
 * target only (it rewrites rows).
 */
export async function clockRestamp(ctx: DrillContext, step: Extract<RecoveryStep, { step: 'clock-restamp' }>): Promise<Record<string, unknown>> {
  requireDrillTarget(ctx, 'clock-restamp');
  const seconds = step.within / 1000;
  return withClient(ctx.router.connection, async (c) => {
    const fixed = await c.query<{ id: string; was: Date; now: Date }>(
      `with off as (
         select t.id, t.created_at as was, q.enqueued_at
           from transfers t join transfer_queue q on q.transfer_id = t.id
          where t.id >= $1 and abs(extract(epoch from t.created_at - q.enqueued_at)) > $2
            for update of t
       )
       update transfers t set created_at = off.enqueued_at from off where t.id = off.id
       returning t.id::text, off.was, t.created_at as now`,
      [SERVICE_IDS_FROM, seconds],
    );
    const left = await c.query<{ n: string }>(
      `select count(*)::text as n from transfers t join transfer_queue q on q.transfer_id = t.id
        where t.id >= $1 and abs(extract(epoch from t.created_at - q.enqueued_at)) > $2`,
      [SERVICE_IDS_FROM, seconds],
    );
    if (Number(left.rows[0]!.n) > 0) {
      throw new StepFailedError('TIMESTAMPS_STILL_WRONG', `${left.rows[0]!.n} transfers still carry a created_at more than ${seconds} s from their outbox entry after the re-stamp`);
    }
    const offsets = fixed.rows.map((r) => r.was.getTime() - r.now.getTime());
    return {
      restamped: fixed.rows.length,
      ...(fixed.rows.length > 0
        ? { ids: { first: Math.min(...fixed.rows.map((r) => Number(r.id))), last: Math.max(...fixed.rows.map((r) => Number(r.id))) }, offsetMs: { min: Math.min(...offsets), max: Math.max(...offsets) } }
        : {}),
    };
  });
}
