import type { DrillContext } from '../engine/drill-context.js';
import { InputError } from '../engine/errors.js';
import type { RecoveryStep, RecoveryTarget } from '../scenario/schema.js';
import type { RecoveryTargetSpec } from '../targets/postgres/types.js';
import { newestVerifiedBackup } from './choose-backup.js';
import { waitForPromotion } from './wait-for-promotion.js';

type PitrStep = Extract<RecoveryStep, { step: 'pitr-restore' }>;

/**
 * Runbook "Restore from point-in-time backup" into a new instance: the newest verified base
 * backup, archived WAL replayed up to the target, then promotion. The old instance is left alone
 * for forensics; `switch-workload` moves the application.
 */
export async function pitrRestore(ctx: DrillContext, step: PitrStep): Promise<Record<string, unknown>> {
  const target = resolveTarget(ctx, step.target);
  const { backup, verification } = await newestVerifiedBackup(ctx);
  const name = `recovered-${ctx.recoveredInstances.length + 1}`;
  const instance = await ctx.pg.restore(backup, name, target);
  ctx.recoveredInstances.push(instance);
  const { lsn, timeline } = await waitForPromotion(instance, step.timeout, ctx.signal);
  return { backup: backup.id, backupEndLsn: backup.endLsn, verification, target, instance: name, promotedAtLsn: lsn, timeline };
}

function resolveTarget(ctx: DrillContext, target: RecoveryTarget): RecoveryTargetSpec {
  if (target === 'latest') return { kind: 'latest' };
  if (target === 'before-fault') {
    const point = ctx.restorePoints.get('before-fault');
    if (!point) {
      throw new InputError(
        'NO_BEFORE_FAULT_POINT',
        'pitr-restore target "before-fault" needs a fault that records a restore point (pg-page-corruption does); use a time, lsn, xid or name target instead',
      );
    }
    return { kind: 'name', name: point.name };
  }
  if ('time' in target) return { kind: 'time', time: target.time };
  if ('lsn' in target) return { kind: 'lsn', lsn: target.lsn };
  if ('xid' in target) return { kind: 'xid', xid: target.xid };
  return { kind: 'name', name: target.name };
}
