import type { DrillContext } from '../engine/drill-context.js';
import { StepFailedError } from '../engine/errors.js';
import type { BaseBackup } from '../targets/postgres/types.js';

export type BackupChoice = 'newest' | 'before-fault';

/**
 * The base backup a restore starts from: the newest one, or the newest that finished before the
 * fault (a backup taken after it may carry the damage). With `verify`, pg_verifybackup checks it
 * against its manifest before it is trusted.
 */
export async function chooseBackup(ctx: DrillContext, which: BackupChoice, verify: boolean): Promise<{ backup: BaseBackup; verification: string }> {
  const backups = ctx.pg.listBackups();
  let backup: BaseBackup | undefined;
  if (which === 'newest') {
    backup = backups.at(-1);
  } else {
    // The restore point is recorded before the fault is applied; T_fault only once it is in effect.
    const cutoff = ctx.restorePoints.get('before-fault')?.t ?? ctx.recorder.journal.marks.tFault?.t;
    backup = cutoff === undefined ? undefined : backups.filter((b) => b.tTaken <= cutoff).at(-1);
  }
  if (!backup) {
    throw new StepFailedError(
      'NO_BACKUP',
      which === 'newest'
        ? 'there is no base backup to restore from; the baseline phase takes one'
        : `no base backup finished before the fault (${backups.length} taken, all after it); use backup: newest or take one earlier (baseline.backupAfter)`,
    );
  }
  if (!verify) return { backup, verification: 'not verified (verify: false)' };
  const { ok, output } = await ctx.pg.verifyBackup(backup);
  if (!ok) throw new StepFailedError('BACKUP_INVALID', `base backup ${backup.id} failed verification: ${output}`);
  return { backup, verification: output };
}

/** The newest base backup, verified: what a restore uses unless the scenario says otherwise. */
export function newestVerifiedBackup(ctx: DrillContext): Promise<{ backup: BaseBackup; verification: string }> {
  return chooseBackup(ctx, 'newest', true);
}
