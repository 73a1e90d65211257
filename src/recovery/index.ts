import type { DrillContext } from '../engine/drill-context.js';
import type { RecoveryStep } from '../scenario/schema.js';
import { assessCorruption } from './assess-corruption.js';
import { pitrRestore } from './pitr-restore.js';
import { restoreBaseBackup } from './restore-base-backup.js';
import { stopWrites } from './stop-writes.js';
import { switchWorkload } from './switch-workload.js';

type Procedure<S extends RecoveryStep['step']> = (ctx: DrillContext, step: Extract<RecoveryStep, { step: S }>) => Promise<Record<string, unknown>>;

/** One entry per runbook procedure of the scenario schema; the compiler checks none is missing. */
const procedures: { [S in RecoveryStep['step']]: Procedure<S> } = {
  'assess-corruption': assessCorruption,
  'stop-writes': stopWrites,
  'pitr-restore': pitrRestore,
  'restore-base-backup': restoreBaseBackup,
  'switch-workload': switchWorkload,
};

export function runProcedure(ctx: DrillContext, step: RecoveryStep): Promise<Record<string, unknown>> {
  const procedure = procedures[step.step] as Procedure<RecoveryStep['step']>;
  return procedure(ctx, step);
}

/** The runbook's wording for each procedure, for timelines and reports. */
export const PROCEDURE_TITLES: Record<RecoveryStep['step'], string> = {
  'assess-corruption': 'Identify corruption extent',
  'stop-writes': 'Stop write operations (read-only mode)',
  'pitr-restore': 'Restore from point-in-time backup',
  'restore-base-backup': 'Restore from backup (data loss confirmed)',
  'switch-workload': 'Update application connection to the restored instance',
};
