import { PROCEDURE_TITLES } from '../../recovery/index.js';
import { asDrillError } from '../errors.js';
import { performStep } from './manual-step.js';
import type { PhaseTask } from './phase-task.js';
import { announceRollback } from './rollback-notice.js';

/**
 * The runbook's steps, each an activity of its own. A step that fails its postcondition stops the
 * rest (recorded as skipped); the drill still verifies and judges, so the report says what state
 * it was left in.
 */
export const recoverPhase: PhaseTask = {
  name: 'recover',
  title: 'Recover (runbook steps)',
  abortable: true,
  marks: { before: 'tRecoveryStart', after: 'tRecoveryEnd' },
  async run(run) {
    const { recorder } = run;
    for (const [index, step] of run.scenario.recovery.entries()) {
      const title = step.title ?? PROCEDURE_TITLES[step.step];
      if (!run.recovered) {
        recorder.skipped('step', step.step, title, 'an earlier step failed');
        continue;
      }
      try {
        run.signal.throwIfAborted();
        // The timeout (and a game day's wait for a person) is inside the activity, so a step that runs out of time is recorded as failed.
        await run.guard(recorder.activity('step', step.step, title, () => performStep(run, index, step, title)));
        announceRollback(run, step, title);
      } catch (error) {
        const e = asDrillError(error);
        if (e.kind !== 'interrupted') announceRollback(run, step, title, e);
        // A step that could not act (a target out of reach, a tool or capability missing here) says
        // nothing about the runbook: the drill ends as an environment failure (exit 3), as
        // provisioning does, instead of judging a recovery that never ran.
        if (e.kind === 'interrupted' || e.kind === 'input' || e.kind === 'environment') throw error;
        run.recovered = false;
        recorder.event('step-failed', `${step.step}: ${e.message}`);
      }
    }
    return { recovered: run.recovered };
  },
};
