import type { DrillContext } from '../engine/drill-context.js';
import { StepFailedError } from '../engine/errors.js';
import type { RecoveryStep } from '../scenario/schema.js';
import { newestVerifiedBackup } from './choose-backup.js';
import { waitForPromotion } from './wait-for-promotion.js';

type RestoreStep = Extract<RecoveryStep, { step: 'restore-base-backup' }>;

/**
 * Runbook "Data Restoration (Critical)": the newest base backup alone, no WAL replay. Everything
 * written after the backup is lost, so like the runbook's script it refuses without
 * --confirm-data-loss (in the scenario, or on the command line).
 */
export async function restoreBaseBackup(ctx: DrillContext, step: RestoreStep): Promise<Record<string, unknown>> {
  if (!step.confirmDataLoss && !ctx.confirmDataLoss) {
    throw new StepFailedError(
      'DATA_LOSS_NOT_CONFIRMED',
      'restore-base-backup loses every write after the backup; set confirmDataLoss: true on the step or pass --confirm-data-loss',
    );
  }
  const { backup, verification } = await newestVerifiedBackup(ctx);
  const name = `recovered-${ctx.recoveredInstances.length + 1}`;
  const instance = await ctx.pg.restore(backup, name, 'backup-only');
  ctx.recoveredInstances.push(instance);
  const { lsn, timeline } = await waitForPromotion(instance, step.timeout, ctx.signal);
  ctx.recorder.event('data-loss', `restored ${backup.id} alone: writes after ${backup.endLsn} are not in ${name}`);
  return { backup: backup.id, backupEndLsn: backup.endLsn, verification, instance: name, startedAtLsn: lsn, timeline };
}
