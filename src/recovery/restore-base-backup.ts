import type { DrillContext } from '../engine/drill-context.js';
import { StepFailedError } from '../engine/errors.js';
import type { RecoveryStep } from '../scenario/schema.js';
import type { BaseBackup, PgInstance } from '../targets/postgres/types.js';
import { withClient } from '../targets/postgres/with-client.js';
import { chooseBackup } from './choose-backup.js';
import { requireSoundChecksums } from './offline-checksums.js';
import { waitForPromotion } from './wait-for-promotion.js';

type RestoreStep = Extract<RecoveryStep, { step: 'restore-base-backup' }>;

/**
 * Runbook "Data Restoration (Critical)": a base backup alone, no WAL replay. Everything written
 * after the backup is lost, so like the runbook's script it refuses without --confirm-data-loss
 * (in the scenario, or on the command line). It reports what the restore leaves behind: the WAL
 * the old instance had past the backup, and the application writes acknowledged after it.
 */
export async function restoreBaseBackup(ctx: DrillContext, step: RestoreStep): Promise<Record<string, unknown>> {
  if (!step.confirmDataLoss && !ctx.confirmDataLoss) {
    throw new StepFailedError(
      'DATA_LOSS_NOT_CONFIRMED',
      'restore-base-backup loses every write after the backup; set confirmDataLoss: true on the step or pass --confirm-data-loss',
    );
  }
  const { backup, verification } = await chooseBackup(ctx, step.backup, step.verify);
  const oldInstance = ctx.router.current;
  const name = `recovered-${ctx.recoveredInstances.length + 1}`;
  const instance = await ctx.pg.restore(backup, name, 'backup-only');
  ctx.recoveredInstances.push(instance);
  const { lsn, timeline } = await waitForPromotion(instance, step.timeout, ctx.signal);
  const checksums = step.verify ? await requireSoundChecksums(ctx, instance, backup.id) : 'not verified (verify: false)';

  const loss = await whatIsLost(ctx, oldInstance, backup);
  ctx.recorder.event(
    'data-loss',
    `restored ${backup.id} alone into ${name}: writes after ${backup.endLsn} are not in it` +
      ` (${loss.writesAcknowledgedAfterBackup} acknowledged canary write(s) since the backup` +
      `${loss.walBytesNotRestored !== undefined ? `, up to ${loss.walBytesNotRestored} bytes of ${oldInstance.name}'s WAL (${backup.endLsn}..${loss.oldInstanceLsn})` : ''})`,
    { ...loss },
  );
  return { backup: backup.id, backupTakenAt: backup.takenAtWall, backupEndLsn: backup.endLsn, verification, checksums, instance: name, startedAtLsn: lsn, timeline, lost: loss };
}

/** The loss a backup-only restore accepts, as far as it is known without judging (the RPO assertion does that). */
async function whatIsLost(ctx: DrillContext, old: PgInstance, backup: BaseBackup): Promise<{ writesAcknowledgedAfterBackup: number; walBytesNotRestored?: number; oldInstanceLsn?: string }> {
  const writesAcknowledgedAfterBackup = ctx.recorder.journal.canary.acks.filter((a) => a.tAck > backup.tTaken).length;
  const wal = await withClient({ ...old.connection, database: 'postgres' }, async (c) => {
    const { rows } = await c.query<{ lsn: string; bytes: string }>(
      `select lsn::text, greatest(pg_wal_lsn_diff(lsn, $1::pg_lsn), 0)::bigint::text as bytes
         from (select case when pg_is_in_recovery() then pg_last_wal_replay_lsn() else pg_current_wal_lsn() end as lsn) p`,
      [backup.endLsn],
    );
    return rows[0]!;
  }, 10_000).catch(() => undefined);
  if (!wal) return { writesAcknowledgedAfterBackup };
  // A WAL position distance: it includes the unused end of any segment switched since (a backup
  // ends with a switch), so it bounds the WAL lost rather than measuring it; not a measurement.
  return { writesAcknowledgedAfterBackup, walBytesNotRestored: Number(wal.bytes), oldInstanceLsn: wal.lsn };
}
