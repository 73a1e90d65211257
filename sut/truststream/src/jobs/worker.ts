import { messageOf } from '../database.js';
import type { ServiceDeps } from '../service-deps.js';
import { startJobLoop, type JobLoop } from './job-loop.js';

const BATCH = 20;

/**
 * The worker: consumes `transfer_queue`, which the API writes in the same transaction as each
 * transfer. Several workers share the queue through FOR UPDATE SKIP LOCKED; an item is marked
 * processed (with the outcome and this instance) by the statement that claims it, so a worker
 * that dies mid-batch leaves its items to the next one. Processing = settling: the transfer must
 * exist (the queue has no foreign key, as an outbox, so a deleted transfer is reported, not hidden).
 * Paused in READ_ONLY_MODE (it would only fail on a read-only database).
 */
export function startWorker(deps: ServiceDeps): JobLoop {
  const { config, pool, metrics, logger } = deps;
  return startJobLoop(
    config.workerPollMs,
    async () => {
      if (config.readOnly) return false;
      // One statement: claimed and marked processed atomically, so an item is never half-taken.
      const { rows: processed } = await pool.query<{ transfer_id: string; outcome: string }>(
        `with claimed as (
           select id from transfer_queue where processed_at is null order by id limit $1 for update skip locked
         )
         update transfer_queue q
            set processed_at = clock_timestamp(), processed_by = $2,
                outcome = case when exists (select 1 from transfers t where t.id = q.transfer_id) then 'settled' else 'transfer-missing' end
           from claimed
          where q.id = claimed.id
         returning q.transfer_id::text, q.outcome`,
        [BATCH, config.instance],
      );
      for (const r of processed) {
        metrics.queueProcessed.inc({ outcome: r.outcome });
        if (r.outcome !== 'settled') logger.error({ transferId: Number(r.transfer_id) }, 'queue item names a transfer that does not exist');
      }
      if (processed.length > 0) logger.info({ items: processed.length, transferIds: processed.map((r) => Number(r.transfer_id)) }, 'queue items settled');
      return processed.length === BATCH;
    },
    (error) => {
      metrics.databaseErrors.inc({ operation: 'worker' });
      logger.error({ err: messageOf(error) }, 'worker could not process the queue');
    },
  );
}
