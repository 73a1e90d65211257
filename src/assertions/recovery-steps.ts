/** The runbook steps themselves: a step that failed, errored or was interrupted fails the drill. */
import type { ActivityStatus, Journal } from '../engine/journal-types.js';
import { plural, type Assessment } from './assessment.js';

const FAILING: ReadonlySet<ActivityStatus> = new Set<ActivityStatus>(['running', 'failed', 'error', 'interrupted']);

export function assessRecoverySteps(journal: Journal): Assessment {
  const steps = journal.steps;
  const details = { steps: steps.map((step) => ({ name: step.name, status: step.status, ...(step.error ? { error: step.error } : {}) })) };
  if (steps.length === 0 && journal.scenario.definition.recovery.length > 0) {
    return {
      verdict: {
        check: 'recovery-steps',
        status: 'failed',
        message: `no recovery step was recorded (the scenario has ${plural(journal.scenario.definition.recovery.length, 'step')})`,
        details,
      },
      measurements: {},
    };
  }
  const bad = steps.filter((step) => FAILING.has(step.status));
  const skipped = steps.filter((step) => step.status === 'skipped').length;
  return {
    verdict: {
      check: 'recovery-steps',
      status: bad.length ? 'failed' : 'passed',
      message: bad.length
        ? `recovery step${bad.length === 1 ? '' : 's'} did not succeed: ${bad
            .map((step) => `${step.name} ${step.status}${step.error ? ` (${step.error.code}: ${step.error.message})` : ''}`)
            .join('; ')}`
        : `${plural(steps.length, 'recovery step')} completed${skipped ? ` (${skipped} skipped)` : ''}`,
      details,
    },
    measurements: {},
  };
}
