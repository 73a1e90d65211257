import type { DrillContext } from '../engine/drill-context.js';
import { StepFailedError } from '../engine/errors.js';
import type { BaseBackup } from '../targets/postgres/types.js';

/** The newest base backup, verified with pg_verifybackup before it is trusted. */
export async function newestVerifiedBackup(ctx: DrillContext): Promise<{ backup: BaseBackup; verification: string }> {
  const backups = ctx.pg.listBackups();
  const backup = backups.at(-1);
  if (!backup) {
    throw new StepFailedError('NO_BACKUP', 'there is no base backup to restore from; the baseline phase takes one');
  }
  const { ok, output } = await ctx.pg.verifyBackup(backup);
  if (!ok) throw new StepFailedError('BACKUP_INVALID', `base backup ${backup.id} failed verification: ${output}`);
  return { backup, verification: output };
}
