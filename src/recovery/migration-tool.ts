import type { DrillContext } from '../engine/drill-context.js';
import { DrillError, StepFailedError } from '../engine/errors.js';
import { Migrator } from '../workload/migrations/migrator.js';
import { schemaDifferences } from '../workload/migrations/schema-shape.js';

/**
 * The runbook runs `npm run migrate:*` inside the deployed application, so these steps use the
 * migrations the deployed release ships, against the database the application uses now.
 */
export function deployedMigrator(ctx: DrillContext): Migrator {
  return new Migrator(ctx.router.connection, ctx.migrations.all);
}

/** A migration command that failed inside a recovery step is that step failing, under the same code. */
export function asStepFailure(error: unknown): never {
  if (error instanceof StepFailedError) throw error;
  if (error instanceof DrillError && error.kind === 'interrupted') throw error;
  const code = error instanceof DrillError ? error.code : 'MIGRATION_FAILED';
  throw new StepFailedError(code, error instanceof Error ? error.message : String(error), { cause: error });
}

/**
 * How the application database's schema differs from what `version` of the deployed release
 * defines (empty when it matches). The definition is built in a scratch database on the same
 * server, so the instance's own connection (not the drill database) is the admin connection.
 */
export function differencesFromVersion(ctx: DrillContext, version: string): Promise<string[]> {
  return schemaDifferences(ctx.router.current.connection, ctx.router.connection, ctx.migrations.all, version);
}

export function summariseDifferences(differences: string[], max = 5): string {
  return differences.length <= max ? differences.join('; ') : `${differences.slice(0, max).join('; ')}; and ${differences.length - max} more`;
}
