import type { DrillContext } from '../engine/drill-context.js';
import { StepFailedError } from '../engine/errors.js';
import { requireDrillTarget } from '../engine/require-drill-target.js';
import type { RecoveryStep } from '../scenario/schema.js';
import { withClient } from '../targets/postgres/with-client.js';

type FixArchiving = Extract<RecoveryStep, { step: 'fix-archiving' }>;

interface WalState {
  walBytes: number;
  ready: number;
  archived: number;
}

/**
 * Repair WAL archiving and watch pg_wal shrink, as an operator does after a WAL disk filled because
 * the archive was unreachable: archive_command back to the configured one (ALTER SYSTEM RESET,
 * reload), wait until the archiver has copied every waiting segment (no `.ready` file left), then a
 * CHECKPOINT, which removes or recycles the segments no longer needed. Postcondition: nothing waits
 * to be archived and pg_wal is smaller than before. It repairs only what a `wal-archive-stuck`
 * fault broke (a loader rule), and only on a drill target: the RESET drops whatever
 * archive_command ALTER SYSTEM had set, which on someone else's server is their setting.
 */
export async function fixArchiving(ctx: DrillContext, step: FixArchiving): Promise<Record<string, unknown>> {
  requireDrillTarget(ctx, 'fix-archiving (ALTER SYSTEM RESET archive_command)');
  const instance = ctx.router.current;
  const connection = { ...instance.connection, database: 'postgres' };
  return withClient(
    connection,
    async (c) => {
      const state = async (): Promise<WalState> => {
        const { rows } = await c.query<{ wal: string; ready: string; archived: string }>(
          `select (select coalesce(sum(size), 0) from pg_ls_waldir())::text as wal,
                  (select count(*) from pg_ls_archive_statusdir() where name like '%.ready')::text as ready,
                  (select archived_count from pg_stat_archiver)::text as archived`,
        );
        return { walBytes: Number(rows[0]!.wal), ready: Number(rows[0]!.ready), archived: Number(rows[0]!.archived) };
      };
      const before = await state();
      await c.query('alter system reset archive_command');
      await c.query('select pg_reload_conf()');
      const until = ctx.clock.now() + step.archiveWithin;
      let now = before;
      while (now.ready > 0) {
        ctx.signal.throwIfAborted();
        if (ctx.clock.now() > until) {
          throw new StepFailedError('ARCHIVE_STILL_BEHIND', `${now.ready} WAL segments of ${instance.name} still wait to be archived ${step.archiveWithin / 1000} s after archive_command was reset; check pg_stat_archiver and the archive destination`);
        }
        await new Promise((r) => setTimeout(r, 250));
        now = await state();
      }
      const { rows } = await c.query<{ archive_command: string }>('show archive_command');
      await c.query('checkpoint');
      const after = await state();
      const output = {
        instance: instance.name,
        archiveCommand: rows[0]!.archive_command,
        segmentsWaitingBefore: before.ready,
        segmentsArchived: after.archived - before.archived,
        walBytesBefore: before.walBytes,
        walBytesAfter: after.walBytes,
      };
      if (after.walBytes >= before.walBytes) {
        throw new StepFailedError('WAL_NOT_SHRUNK', `pg_wal of ${instance.name} did not shrink after archiving caught up and a checkpoint (${before.walBytes} → ${after.walBytes} bytes)`);
      }
      return output;
    },
    step.archiveWithin + 60_000,
  );
}
