import path from 'node:path';
import type { ProcessIdentity } from '../targets/process/process-identity.js';
import type { RunbookRecord } from './journal-types.js';

/**
 * What `drill run` hands to the vitest process that runs one drill, and the files through which
 * the two talk while it runs: progress lines out, an interrupt request in.
 */
export interface RunPlan {
  runId: string;
  runDir: string;
  scenarioFile: string;
  confirmDataLoss: boolean;
  /** The drill network the drill process runs in, when it has one (src/engine/drill-network-plan.ts). */
  network?: string;
  /** The run's machine-wide ledger (src/engine/run-ledger.ts), which the drill joins as an owner. */
  ledgerFile?: string;
  /** The `drill run` that started the drill: when it is gone (killed), the drill stops itself. */
  parent?: ProcessIdentity;
  /** The runbook procedures the scenario follows, hashed, when `drill run` was given a runbook: goes into the journal. */
  runbook?: RunbookRecord;
  /** `--game-day`: manual steps wait for `drill continue` (src/engine/manual-gate.ts). */
  gameDay?: boolean;
  /** The runbook text printed for a manual step's `procedure:`, by step index (the drill process has no runbook). */
  manualInstructions?: Record<number, string>;
  /** Started ahead of its turn: the drill waits for the start file (src/engine/start-gate.ts). */
  awaitStart?: true;
  /** The prebuilt harness to import instead of the sources (src/cli/harness-bundle.ts); absent: from source. */
  harnessBundle?: string;
  /** The scenario's `${VAR}` values are in the parent's pipe (src/engine/variables-handoff.ts), not in the environment. */
  variablesFromParent?: true;
}

export const PLAN_ENV = 'DRILL_PLAN';

export const runFiles = (runDir: string) => ({
  journal: path.join(runDir, 'journal.json'),
  incidentReport: path.join(runDir, 'incident-report.md'),
  allureResults: path.join(runDir, 'allure-results'),
  progress: path.join(runDir, 'progress.jsonl'),
  interrupt: path.join(runDir, 'interrupt-requested'),
  /** Written by `drill run` when a drill started ahead of its turn is to begin (removed by the drill). */
  start: path.join(runDir, 'start-requested'),
  resources: path.join(runDir, 'resources.jsonl'),
  runnerLog: path.join(runDir, 'runner.log'),
  /** Written by `drill cleanup` / the next `drill run` for a run killed before it wrote a journal. */
  killed: path.join(runDir, 'killed.json'),
});

export function readPlan(env: NodeJS.ProcessEnv = process.env): RunPlan | undefined {
  const text = env[PLAN_ENV];
  return text ? (JSON.parse(text) as RunPlan) : undefined;
}
