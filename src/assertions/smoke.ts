/**
 * Runbook "Post-Recovery Testing": every smoke run the scenario planned ran, and every named check
 * of every run passed. Pure: reads journal.smoke and the scenario only.
 */
import type { Journal, SmokeRun } from '../engine/journal-types.js';
import { plural, type Assessment } from './assessment.js';

/** How many smoke runs the scenario plans, by phase. */
function planned(journal: Journal): Record<SmokeRun['phase'], number> {
  const def = journal.scenario.definition;
  return {
    recover: def.recovery.filter((s) => s.step === 'smoke').length,
    verify: (def.verify ?? []).filter((s) => s.step === 'smoke').length,
  };
}

export function scenarioHasSmoke(journal: Journal): boolean {
  const p = planned(journal);
  return p.recover + p.verify > 0;
}

export function assessSmoke(journal: Journal): Assessment {
  const runs = journal.smoke ?? [];
  const plan = planned(journal);
  const problems: string[] = [];
  for (const phase of ['recover', 'verify'] as const) {
    const ran = runs.filter((r) => r.phase === phase).length;
    if (ran < plan[phase]) {
      problems.push(`${plural(plan[phase] - ran, 'planned smoke run')} in ${phase === 'recover' ? 'the recovery steps' : 'verify'} never ran`);
    }
  }
  for (const run of runs) {
    for (const check of run.checks.filter((c) => c.status === 'failed')) {
      problems.push(`${check.name} (${run.phase}): ${check.error ?? 'failed'}`);
    }
  }
  const checks = runs.flatMap((r) => r.checks);
  return {
    verdict: {
      check: 'smoke',
      status: problems.length ? 'failed' : 'passed',
      message: problems.length
        ? `smoke tests failed: ${problems.join('; ')}`
        : `smoke tests passed: ${plural(runs.length, 'run')}, ${checks.map((c) => `${c.name} ${c.ms} ms`).join(', ')}`,
      measured: checks.filter((c) => c.status === 'failed').length,
      limit: 0,
      details: {
        planned: plan,
        runs: runs.map((r) => ({ phase: r.phase, at: r.start.t, checks: r.checks.map((c) => ({ name: c.name, status: c.status, ms: c.ms, ...(c.error ? { error: c.error } : {}) })) })),
      },
    },
    measurements: {},
  };
}
