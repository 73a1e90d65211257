import { inject, machineNeeds } from '../injectors/index.js';
import { runProcedure } from '../recovery/index.js';
import { runVerifyStep } from '../recovery/verify-steps.js';
import type { Fault, RecoveryStep, VerifyStep } from '../scenario/schema.js';
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
  recover(ctx: DrillContext, step: RecoveryStep): Promise<Record<string, unknown>>;
  verify(ctx: DrillContext, step: VerifyStep): Promise<Record<string, unknown>>;
}

export const DRILL_REGISTRIES: DrillRegistries = {
  targets: TARGET_KINDS,
  inject,
  machineNeeds,
  recover: runProcedure,
  verify: runVerifyStep,
};
