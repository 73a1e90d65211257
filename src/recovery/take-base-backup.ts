import type { DrillContext } from '../engine/drill-context.js';
import { StepFailedError } from '../engine/errors.js';
import type { RecoveryStep } from '../scenario/schema.js';

type TakeBackupStep = Extract<RecoveryStep, { step: 'take-base-backup' }>;

/**
 * A new base backup of the instance the application uses (pg_basebackup, WAL streamed with it).
 * With `verify` (the default) the server checks every page checksum as it sends it, and a page
 * that fails stops the backup (BACKUP_CHECKSUM_FAILURE); then pg_verifybackup checks the copy
 * against its manifest. With `verify: false` neither happens, so a damaged page is copied as it is:
 * the mistake the negative-control drills make on purpose.
 */
export async function takeBaseBackup(ctx: DrillContext, step: TakeBackupStep): Promise<Record<string, unknown>> {
  const from = ctx.router.current;
  const backup = await ctx.pg.takeBaseBackup(from, { verifyChecksums: step.verify });
  let manifest = 'not verified (verify: false)';
  if (step.verify) {
    const { ok, output } = await ctx.pg.verifyBackup(backup);
    if (!ok) throw new StepFailedError('BACKUP_INVALID', `base backup ${backup.id} of ${from.name} failed pg_verifybackup: ${output}`);
    manifest = output;
  }
  ctx.recorder.event(
    'base-backup',
    `base backup ${backup.id} of ${from.name} (${backup.startLsn}..${backup.endLsn})${step.verify ? '' : ', page checksums NOT verified'}`,
    { ...backup },
  );
  return {
    backup: backup.id,
    instance: from.name,
    startLsn: backup.startLsn,
    endLsn: backup.endLsn,
    takenAt: backup.takenAtWall,
    pageChecksumsVerified: backup.checksumsVerified ?? step.verify,
    manifest,
  };
}
