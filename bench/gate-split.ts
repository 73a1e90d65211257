import type { ActivityRecord, Journal } from '../src/engine/journal-types.js';

/**
 * Where one drill's wall time went in the gate (bench/gate.ts), from its journal and the duration
 * `drill run` measured for it (summary.json `durationMs`). Three parts that add up to the total:
 *
 * - **waits**: the scenario's own fixed waits, as its definition in the journal sets them:
 *   `baseline.steadyState`, `expect.stability` (the window verify holds after the service is back and
 *   the runbook is done) and every recovery `wait` step (as long as the step lasted). A harness
 *   cannot go faster than these without changing the scenario.
 * - **system**: the system's own behaviour: T_fault until the service is back and the runbook is
 *   done (the later of the restored instant and the end of recovery), less the `wait` steps in it.
 *   Detection, the runbook's steps and the service coming back all count here. A drill whose
 *   service never came back has no stability window: the verify phase's wait for it counts here.
 * - **scenario steps**: the work the scenario asks for besides the fault and the runbook's recovery:
 *   the baseline load test (`workload.load`, as long as its run in journal.load lasted) and the
 *   runbook's "Recovery Validation" steps (`verify:` smoke and load, as long as each lasted). They
 *   run against the system (300 requests take what the service takes), as recovery steps do; a
 *   harness could only skip them, not do them faster.
 * - **overhead**: everything else, the harness's own cost (`overheadMs.total` = total - waits -
 *   system - scenario steps): the drill process starting before its clock (and the CLI's run
 *   ledger, network), provisioning the targets, baseline work beyond the steady-state wait and the
 *   load test (base backup, snapshot), injecting until T_fault, verify work after the stability
 *   window beyond the validation steps (integrity, ledger read-back), judging, teardown, gaps
 *   between phases, and after the journal ends the incident report, Allure results, timeline and
 *   the evidence manifest (and signature).
 */
export interface GateDrillSplit {
  runId: string;
  status: string;
  totalMs: number;
  waitsMs: { steadyState: number; stability: number; waitSteps: number; total: number };
  systemMs: number;
  scenarioStepsMs: { baselineLoad: number; verifySteps: number; total: number };
  overheadMs: {
    total: number;
    /** drill process start to the journal's start, plus the artefacts written after it ended (see below). */
    beforeJournal: number;
    provision: number;
    baselineBeyondSteadyState: number;
    injectBeforeFault: number;
    verifyBeyondStability: number;
    judge: number;
    teardown: number;
    /** Between phases (phase bookkeeping, observers starting and stopping, notifications). */
    betweenPhases: number;
    /** Journal end to the newest file of the run dir (reports, evidence); absent when not known. */
    afterJournal?: number;
  };
  /** Each phase's duration as the journal recorded it (a phase that did not run is absent). */
  phasesMs: Record<string, number>;
}

const PHASE_NAMES = ['provision', 'baseline', 'inject', 'detect', 'recover', 'verify', 'judge', 'teardown'] as const;

function duration(a: ActivityRecord | undefined): number {
  return a?.end ? a.end.t - a.start.t : 0;
}

/**
 * The split of one drill. `lastWrittenMs` (epoch ms): when the newest file of its run dir was
 * written, to tell the reports after the journal from the process start before it.
 */
export function splitOfGateDrill(journal: Journal, totalMs: number, lastWrittenMs?: number): GateDrillSplit {
  const def = journal.scenario.definition;
  const phase = (name: string) => journal.phases.find((p) => p.name === name);
  const tFault = journal.marks.tFault?.t;
  const recover = phase('recover');
  const verify = phase('verify');

  // Wait steps: the definition says which recovery steps are `wait`; the journal's step of the same
  // index says how long each lasted (a drill stopped early ran fewer steps).
  const recoverySteps = journal.steps;
  const waitSteps = def.recovery.reduce((sum, step, i) => (step.step === 'wait' && recoverySteps[i]?.name === 'wait' ? sum + duration(recoverySteps[i]) : sum), 0);

  const steadyState = phase('baseline')?.end ? def.baseline.steadyState : 0;
  const restoredAt = typeof verify?.output?.stableFrom === 'number' ? verify.output.stableFrom : undefined;
  const recoveryEnd = journal.marks.tRecoveryEnd?.t ?? recover?.end?.t;
  // The window the fault and the recovery run in: inject's start to the last of verify (or of
  // whichever of inject..verify ran, for a drill stopped early).
  const windowPhases = ['inject', 'detect', 'recover', 'verify'].map(phase).filter((p): p is ActivityRecord => p !== undefined);
  const windowStart = windowPhases[0]?.start.t;
  const windowEnd = Math.max(...windowPhases.map((p) => p.end?.t ?? p.start.t), windowStart ?? 0);
  // The scenario's own steps: the baseline load runs, and verify's validation steps (which hold its verify-phase load runs).
  const baselineLoad = (journal.load ?? []).filter((run) => run.phase === 'baseline').reduce((sum, run) => sum + (run.end.t - run.start.t), 0);
  const verifySteps = (journal.verifications ?? []).reduce((sum, step) => sum + duration(step), 0);
  let system = 0;
  let stability = 0;
  let verifyBeyondStability = 0;
  if (tFault !== undefined) {
    if (restoredAt !== undefined && recoveryEnd !== undefined && verify?.end) {
      // Back and done: from there verify holds one stability window (DESIGN.md §4), then checks.
      const backAndDone = Math.max(restoredAt, recoveryEnd);
      system = backAndDone - tFault - waitSteps;
      stability = def.expect.stability;
      verifyBeyondStability = Math.max(0, verify.end.t - (backAndDone + stability) - verifySteps);
    } else {
      // Never seen back (or stopped early): the harness waited for the system until its patience ran out.
      system = windowEnd - tFault - waitSteps - verifySteps;
    }
  } else if (windowStart !== undefined) {
    // No fault was injected: whatever ran of the window is the harness's.
    verifyBeyondStability = windowEnd - windowStart - verifySteps;
  }

  const phasesMs = Object.fromEntries(PHASE_NAMES.filter((n) => phase(n)?.end).map((n) => [n, round(duration(phase(n)))]));
  const outsideWindow = journal.phases.filter((p) => !windowPhases.includes(p)).reduce((sum, p) => sum + duration(p), 0);
  const journalWallMs = journal.endedAt ? Date.parse(journal.endedAt) - Date.parse(journal.startedAt) : outsideWindow + (windowEnd - (windowStart ?? windowEnd));
  const afterJournal = lastWrittenMs !== undefined && journal.endedAt ? Math.max(0, lastWrittenMs - Date.parse(journal.endedAt)) : undefined;


  const parts = {
    provision: duration(phase('provision')),
    baselineBeyondSteadyState: Math.max(0, duration(phase('baseline')) - steadyState - baselineLoad),
    injectBeforeFault: tFault !== undefined && windowStart !== undefined ? tFault - windowStart : 0,
    verifyBeyondStability,
    judge: duration(phase('judge')),
    teardown: duration(phase('teardown')),
    // The journal's span outside its phases and outside the fault window (which is counted whole above).
    betweenPhases: Math.max(0, journalWallMs - outsideWindow - (windowEnd - (windowStart ?? windowEnd))),
    ...(afterJournal !== undefined ? { afterJournal } : {}),
  };
  // Rounded first, so the published parts add up exactly: total = waits + system + overhead.
  const waitsMs = { steadyState: round(steadyState), stability: round(stability), waitSteps: round(waitSteps) };
  const waitsTotal = waitsMs.steadyState + waitsMs.stability + waitsMs.waitSteps;
  const scenarioStepsMs = { baselineLoad: round(baselineLoad), verifySteps: round(verifySteps), total: round(baselineLoad) + round(verifySteps) };
  const overhead = round(totalMs) - waitsTotal - round(system) - scenarioStepsMs.total;
  const rounded = Object.fromEntries(Object.entries(parts).map(([k, v]) => [k, round(v)]));
  // What is left is outside the journal: the CLI's share and the drill process starting before its clock.
  const beforeJournal = overhead - Object.values(rounded).reduce((a, b) => a + b, 0);
  return {
    runId: journal.runId,
    status: journal.status ?? 'unknown',
    totalMs: round(totalMs),
    waitsMs: { ...waitsMs, total: waitsTotal },
    systemMs: round(system),
    scenarioStepsMs,
    overheadMs: { total: overhead, beforeJournal, ...rounded } as GateDrillSplit['overheadMs'],
    phasesMs,
  };
}

const round = (ms: number) => Math.round(ms);
