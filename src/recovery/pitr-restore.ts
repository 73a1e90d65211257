import type { DrillContext } from '../engine/drill-context.js';
import { InputError } from '../engine/errors.js';
import type { RecoveryStep, RecoveryTarget } from '../scenario/schema.js';
import type { RecoveryTargetSpec } from '../targets/postgres/types.js';
import { chooseBackup } from './choose-backup.js';
import { requireSoundChecksums } from './offline-checksums.js';
import { waitForPromotion } from './wait-for-promotion.js';

type PitrStep = Extract<RecoveryStep, { step: 'pitr-restore' }>;

/**
 * Runbook "Restore from point-in-time backup" into a new instance: a base backup (verified),
 * archived WAL replayed up to the target, then promotion and, with `verify`, an offline check of
 * every page checksum. The old instance is left alone for forensics; `switch-workload` moves the
 * application.
 */
export async function pitrRestore(ctx: DrillContext, step: PitrStep): Promise<Record<string, unknown>> {
  const target = resolveTarget(ctx, step.target);
  const { backup, verification } = await chooseBackup(ctx, step.backup, step.verify);
  const name = `recovered-${ctx.recoveredInstances.length + 1}`;
  const instance = await ctx.pg.restore(backup, name, target);
  ctx.recoveredInstances.push(instance);
  const { lsn, timeline } = await waitForPromotion(instance, step.timeout, ctx.signal);
  const checksums = step.verify ? await requireSoundChecksums(ctx, instance, backup.id) : 'not verified (verify: false)';
  return { backup: backup.id, backupEndLsn: backup.endLsn, verification, target, instance: name, promotedAtLsn: lsn, timeline, checksums };
}

/**
 * The scenario's target as PostgreSQL recovery settings. `before-fault`, and `before-fault` as the
 * value of `time`, `lsn` or `xid`, resolve to what the first fault recorded just before it.
 */
export function resolveTarget(ctx: DrillContext, target: RecoveryTarget): RecoveryTargetSpec {
  if (target === 'latest') return { kind: 'latest' };
  const point = () => {
    const found = ctx.restorePoints.get('before-fault');
    if (found) return found;
    throw new InputError(
      'NO_BEFORE_FAULT_POINT',
      'pitr-restore target "before-fault" needs a fault that records where "before the fault" is (the pg-* corruption faults and pg-fat-finger do); use a literal time, lsn, xid or name target instead',
    );
  };
  if (target === 'before-fault') return { kind: 'name', name: point().name };
  const recorded = (kind: 'time' | 'xid', value: string | undefined): string => {
    if (value !== undefined) return value;
    throw new InputError('NO_BEFORE_FAULT_POINT', `the fault recorded no ${kind} before it; use target: before-fault (the restore point) instead`);
  };
  if ('time' in target) return { kind: 'time', time: target.time === 'before-fault' ? recorded('time', point().time) : target.time };
  if ('lsn' in target) return { kind: 'lsn', lsn: target.lsn === 'before-fault' ? point().lsn : target.lsn };
  if ('xid' in target) return { kind: 'xid', xid: target.xid === 'before-fault' ? recorded('xid', point().xid) : target.xid };
  return { kind: 'name', name: target.name === 'before-fault' ? point().name : target.name };
}
