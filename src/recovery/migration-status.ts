import type { DrillContext } from '../engine/drill-context.js';
import { asStepFailure, deployedMigrator } from './migration-tool.js';

/**
 * Runbook "Check migration status" (`npm run migrate:status`): which migrations the database has
 * applied and which the deployed release ships but has not applied. It observes; postcondition:
 * the status could be read.
 */
export async function migrationStatus(ctx: DrillContext): Promise<Record<string, unknown>> {
  const instance = ctx.router.current;
  const status = await deployedMigrator(ctx).status().catch(asStepFailure);
  const current = status.current?.name ?? 'no version';
  ctx.recorder.event(
    'migration-status',
    `schema on ${instance.name} at ${current}; pending: ${status.pending.join(', ') || 'none'}` +
      (status.unknown.length ? `; applied but not in the deployed release: ${status.unknown.join(', ')}` : ''),
    { ...status },
  );
  return {
    instance: instance.name,
    current: status.current?.version ?? null,
    applied: status.applied,
    pending: status.pending,
    ...(status.unknown.length ? { unknown: status.unknown } : {}),
  };
}
