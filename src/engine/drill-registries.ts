import { inject, loadInjectors, machineNeeds } from '../injectors/index.js';
import { loadProcedures, runProcedure } from '../recovery/index.js';
import { runVerifyStep } from '../recovery/verify-steps.js';
import type { Fault, RecoveryStep, Scenario, VerifyStep } from '../scenario/schema.js';
import { TARGET_KINDS } from '../targets/target-kinds.js';
import type { TargetKinds } from '../targets/target-kind.js';
import type { DrillContext, FaultHandle } from './drill-context.js';

/**
 * What the phases look up by the scenario's names: the target kinds for `targets`, the injector
 * of each fault, the procedure of each recovery and verify step. The real registries by default;
 * a test of the engine passes fakes (test/engine/run-drill-seam.test.ts).
 */
export interface DrillRegistries {
  targets: TargetKinds;
  inject(ctx: DrillContext, fault: Fault): Promise<FaultHandle>;
  /** Throws an EnvironmentError (exit 3) when this machine cannot host the fault; called before anything is provisioned. */
  machineNeeds?(fault: Fault): void;
  /** Imports what the scenario's faults and recovery steps run, during provisioning: no timed step includes a module load. */
  load?(scenario: Scenario): Promise<void>;
  recover(ctx: DrillContext, step: RecoveryStep): Promise<Record<string, unknown>>;
  verify(ctx: DrillContext, step: VerifyStep): Promise<Record<string, unknown>>;
}

export const DRILL_REGISTRIES: DrillRegistries = {
  targets: TARGET_KINDS,
  inject,
  machineNeeds,
  load: async (scenario) => {
    await Promise.all([loadInjectors(scenario.faults), loadProcedures(scenario.recovery)]);
  },
  recover: runProcedure,
  verify: runVerifyStep,
};
