import type { DrillContext } from '../engine/drill-context.js';
import { StepFailedError } from '../engine/errors.js';
import type { RecoveryStep } from '../scenario/schema.js';
import { versionNumber } from '../workload/migrations/schema-migration.js';
import { asStepFailure, deployedMigrator, differencesFromVersion, summariseDifferences } from './migration-tool.js';

type CurrentStep = Extract<RecoveryStep, { step: 'migration-current' }>;

/**
 * Runbook "Verify schema state" (`npm run migrate:current`): the version the database records,
 * and whether its schema is what that version defines (a rollback that recorded a version its
 * down steps did not reach shows here). Postcondition: it matches, and equals `expectVersion`
 * when one is given.
 */
export async function migrationCurrent(ctx: DrillContext, step: CurrentStep): Promise<Record<string, unknown>> {
  const instance = ctx.router.current;
  try {
    const status = await deployedMigrator(ctx).status();
    const current = status.current;
    if (!current) {
      throw new StepFailedError('NO_SCHEMA_VERSION', `${instance.name} records no applied migration; the drill database was not migrated`);
    }
    if (step.expectVersion !== undefined && versionNumber(step.expectVersion) !== versionNumber(current.name)) {
      throw new StepFailedError('SCHEMA_VERSION_UNEXPECTED', `the schema on ${instance.name} is at ${current.name}, expected version ${step.expectVersion}`);
    }
    if (status.unknown.includes(current.name)) {
      throw new StepFailedError(
        'SCHEMA_VERSION_NOT_IN_RELEASE',
        `the schema on ${instance.name} is at ${current.name}, which the deployed release does not ship, so it cannot say what that version defines`,
      );
    }
    const differences = await differencesFromVersion(ctx, current.name);
    if (differences.length > 0) {
      throw new StepFailedError(
        'SCHEMA_NOT_AT_VERSION',
        `${instance.name} records version ${current.name} but its schema is not what that version defines: ${summariseDifferences(differences)}`,
      );
    }
    ctx.recorder.event('schema-version', `schema on ${instance.name} is at ${current.name} and matches its definition`, { ...current });
    return { instance: instance.name, current: current.version, name: current.name, pending: status.pending, schemaMatchesVersion: true };
  } catch (error) {
    return asStepFailure(error);
  }
}
