import { messageOf } from '../database.js';
import type { ServiceDeps } from '../service-deps.js';
import { startJobLoop, type JobLoop } from './job-loop.js';

/** An item unprocessed this long means no worker is keeping up. */
const STALE_AFTER = '30 seconds';

/**
 * The scheduler: every SCHEDULER_INTERVAL_MS (5 s) it records a heartbeat in `service_heartbeats`,
 * marks queue items unprocessed for 30 s as stale (once each, logged as a warning: the workers are
 * down or behind) and publishes how many items are pending. Paused in READ_ONLY_MODE.
 */
export function startScheduler(deps: ServiceDeps): JobLoop {
  const { config, pool, metrics, logger } = deps;
  return startJobLoop(
    config.schedulerIntervalMs,
    async () => {
      if (config.readOnly) return false;
      await pool.query(
        `insert into service_heartbeats (component, instance, version, beat_at) values ('scheduler', $1, $2, clock_timestamp())
         on conflict (component, instance) do update set version = excluded.version, beat_at = excluded.beat_at`,
        [config.instance, config.release.version],
      );
      const stale = await pool.query<{ transfer_id: string }>(
        `update transfer_queue set stale_at = clock_timestamp()
          where processed_at is null and stale_at is null and enqueued_at < clock_timestamp() - interval '${STALE_AFTER}'
          returning transfer_id::text`,
      );
      const pending = await pool.query<{ n: string }>('select count(*)::text as n from transfer_queue where processed_at is null');
      metrics.queuePending.set(Number(pending.rows[0]!.n));
      metrics.queueStaleMarked.inc(stale.rows.length);
      metrics.schedulerRuns.inc({ result: 'ok' });
      if (stale.rows.length > 0) {
        logger.warn({ items: stale.rows.length, transferIds: stale.rows.map((r) => Number(r.transfer_id)) }, `queue items unprocessed for ${STALE_AFTER} marked stale`);
      }
      logger.debug({ pending: Number(pending.rows[0]!.n) }, 'scheduler run');
      return false;
    },
    (error) => {
      metrics.databaseErrors.inc({ operation: 'scheduler' });
      metrics.schedulerRuns.inc({ result: 'failed' });
      logger.error({ err: messageOf(error) }, 'scheduler run failed');
    },
  );
}
