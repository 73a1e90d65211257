import type { DrillContext } from '../engine/drill-context.js';
import { StepFailedError } from '../engine/errors.js';
import { requireDrillTarget } from '../engine/require-drill-target.js';
import type { RecoveryStep } from '../scenario/schema.js';
import { versionNumber, versionOf } from '../workload/migrations/schema-migration.js';
import { asStepFailure, deployedMigrator, differencesFromVersion, summariseDifferences } from './migration-tool.js';

type RollbackStep = Extract<RecoveryStep, { step: 'migration-rollback' }>;

/**
 * Runbook "Rollback database migrations" (`npm run migrate:rollback --to-version=…`): the down
 * steps of every migration newer than the named version, newest first. Down steps can drop data,
 * so only on a drill target. Postcondition: the named version is current and the schema is
 * exactly what that version defines.
 */
export async function migrationRollback(ctx: DrillContext, step: RollbackStep): Promise<Record<string, unknown>> {
  requireDrillTarget(ctx, 'migration-rollback');
  const instance = ctx.router.current;
  const migrator = deployedMigrator(ctx);
  try {
    const target = migrator.resolve(step.toVersion);
    const before = await migrator.status();
    if (!before.current || versionNumber(target.name) > versionNumber(before.current.name)) {
      throw new StepFailedError(
        'ROLLBACK_TARGET_AHEAD',
        `migration-rollback to ${target.name}: the schema on ${instance.name} is at ${before.current?.name ?? 'no version'}, so that is not back; ` +
          'name an applied version at or below the current one in toVersion',
      );
    }
    const reverted = await migrator.downTo(target.name);
    const after = await migrator.status();
    if (after.current?.name !== target.name) {
      throw new StepFailedError(
        'ROLLBACK_VERSION_MISMATCH',
        `after the rollback the schema on ${instance.name} is at ${after.current?.name ?? 'no version'}, not ${target.name}`,
      );
    }
    const differences = await differencesFromVersion(ctx, target.name);
    if (differences.length > 0) {
      throw new StepFailedError(
        'SCHEMA_NOT_AT_VERSION',
        `${instance.name} records version ${target.name} but its schema is not what that version defines: ${summariseDifferences(differences)}`,
      );
    }
    ctx.recorder.event('schema-rollback', `rolled the schema on ${instance.name} back from ${before.current.name} to ${target.name}: reverted ${reverted.join(', ') || 'nothing'}`, {
      from: before.current.name,
      to: target.name,
      reverted,
    });
    return {
      instance: instance.name,
      from: before.current.version,
      to: versionOf(target.name),
      reverted,
      current: after.current.version,
      pending: after.pending,
      schemaMatchesVersion: true,
    };
  } catch (error) {
    return asStepFailure(error);
  }
}
