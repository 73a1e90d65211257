import { STEP_PERFORMS, VERIFY_PERFORMS, VERIFY_STEP_PERFORMS } from '../recovery/runbook-performs.js';
import type { Scenario } from '../scenario/schema.js';
import { performsProcedure, type OutputCondition, type Performs } from './performs.js';
import { isWithin, resolveSectionRef } from './section-refs.js';
import type { Runbook, RunbookProcedure } from './types.js';

/** What a scenario may get credit for in a runbook. */
export interface ScenarioScope {
  /** The sections its `runbook:` names (empty when it names none of this runbook's). */
  sectionIds: string[];
  /** Procedures in those sections and below, plus its `covers:` ids that exist, in runbook order. */
  procedures: RunbookProcedure[];
  /** Why `runbook:` named no section, when it did not. */
  refProblem?: { message: string; suggestion?: string };
  /** `covers:` ids that are no procedure of this runbook. */
  unknownCovers: string[];
}

type ScopedScenario = Pick<Scenario, 'runbook'> & { covers?: readonly string[] | undefined };

export function scenarioScope(runbook: Runbook, scenario: ScopedScenario): ScenarioScope {
  const ref = resolveSectionRef(runbook, scenario.runbook);
  const sectionIds = ref.ok ? ref.sections.map((s) => s.id) : [];
  const covers = new Set(scenario.covers ?? []);
  const known = new Set(runbook.procedures.map((p) => p.id));
  const procedures = runbook.procedures.filter((p) => covers.has(p.id) || sectionIds.some((s) => isWithin(p.sectionId, s)));
  return {
    sectionIds,
    procedures,
    ...(ref.ok ? {} : { refProblem: { message: ref.message, ...(ref.suggestion ? { suggestion: ref.suggestion } : {}) } }),
    unknownCovers: [...covers].filter((id) => !known.has(id)),
  };
}

/** One thing a drill did that may perform runbook procedures: a recovery step, a verify step, or the verify phase's integrity check. */
export interface DrillAction {
  /** `recovery[2] pitr-restore`, `verify[0] smoke`, `verify amcheck`. */
  label: string;
  performs: readonly Performs[];
  /** The step's output in the journal, for conditional entries; undefined when it did not run. */
  output?: Record<string, unknown>;
}

type StepOutputs = ReadonlyArray<Record<string, unknown> | undefined>;

/**
 * The actions a scenario plans: its recovery steps, its verify steps (`verify:`, the runbook's
 * "Recovery Validation") and, with a PostgreSQL target, its integrity checks. `outputs` and
 * `verifyOutputs` are the journal's outputs of those steps, by index, for conditional entries.
 */
export function plannedActions(
  scenario: Pick<Scenario, 'recovery' | 'expect' | 'targets'> & { verify?: Scenario['verify'] | undefined },
  outputs: StepOutputs = [],
  verifyOutputs: StepOutputs = [],
): DrillAction[] {
  const steps = scenario.recovery.map((step, index): DrillAction => ({
    label: `recovery[${index}] ${step.step}`,
    performs: STEP_PERFORMS[step.step] ?? [],
    ...(outputs[index] ? { output: outputs[index] } : {}),
  }));
  const verifySteps = (scenario.verify ?? []).map((step, index): DrillAction => ({
    label: `verify[${index}] ${step.step}`,
    performs: VERIFY_STEP_PERFORMS[step.step] ?? [],
    ...(verifyOutputs[index] ? { output: verifyOutputs[index] } : {}),
  }));
  // Integrity checks read the database: without PostgreSQL none runs, whatever `expect` says.
  const checks = scenario.targets.postgres ? scenario.expect.integrity.map((check): DrillAction => ({ label: `verify ${check}`, performs: VERIFY_PERFORMS[check] ?? [] })) : [];
  return [...steps, ...verifySteps, ...checks];
}

/**
 * The procedures in scope that the actions perform, each with how (the actions and, where the
 * drill does it by other means than the runbook's command, the mapping's `how`).
 * Procedures named by `covers:` count whatever the actions are: the scenario's author says so.
 */
export function performedProcedures(scope: ScenarioScope, actions: DrillAction[], covers: readonly string[] = []): Map<string, string[]> {
  const performed = new Map<string, string[]>();
  const add = (id: string, how: string) => performed.set(id, [...(performed.get(id) ?? []), how]);
  for (const procedure of scope.procedures) {
    if (covers.includes(procedure.id)) add(procedure.id, 'covers: (named by the scenario)');
    for (const action of actions) {
      for (const entry of action.performs) {
        if (!holds(entry.when, action.output) || !performsProcedure(entry, procedure)) continue;
        add(procedure.id, entry.how ? `${action.label}: ${entry.how}` : action.label);
      }
    }
  }
  return performed;
}

function holds(condition: OutputCondition | undefined, output: Record<string, unknown> | undefined): boolean {
  return condition === undefined || condition(output);
}
