import { DEFAULT_MANUAL_TIMEOUT_MS } from '../../scenario/manual-schema.js';
import type { RecoveryStep } from '../../scenario/schema.js';
import { InputError } from '../errors.js';
import { withTimeout } from '../with-timeout.js';
import type { DrillRun } from './drill-run.js';

/**
 * One recovery step as the recover phase runs it. A step marked `manual` in a `--game-day` run
 * first waits for a person (`drill continue`); that wait is inside the step's activity, so the
 * time the person took is the step's duration and, as every step is between T_fault and the
 * restored instant, part of the RTO. Then drill performs what the step kind does (nothing for a
 * `manual` step: the person did it), within the step's own `timeout`.
 */
export async function performStep(run: DrillRun, index: number, step: RecoveryStep, title: string): Promise<Record<string, unknown>> {
  const gate = run.options.gameDay;
  const perform = () => withTimeout(run.registries.recover(run.context, step), step.timeout, `recovery[${index}] ${step.step}`);
  if (!step.manual) return perform();
  const number = index + 1;
  if (!gate) {
    // The loader refuses a `manual` step without --game-day; a caller that skipped it must not pass one as done.
    if (step.step === 'manual') throw new InputError('MANUAL_STEP_NEEDS_GAME_DAY', `recovery[${index}] is a manual step (${title}): only a person can do it; run with --game-day`);
    run.recorder.event('manual-automated', `step ${number} (${title}) is manual: true; without --game-day drill performs it itself`, undefined, { notice: true });
    return { ...(await perform()), manual: { performedBy: 'drill (no --game-day)' } };
  }
  const timeoutMs = step.manualTimeout ?? DEFAULT_MANUAL_TIMEOUT_MS;
  const instructions = run.options.manualInstructions?.[index] ?? step.instructions ?? title;
  const runId = run.journal.runId;
  run.recorder.event(
    'manual-waiting',
    `step ${number} (${title}) is yours: waiting for drill continue (timeout ${Math.round(timeoutMs / 1000)}s)\n` +
      `${instructions.replace(/^/gm, '    | ')}\n` +
      `  when done, run in another terminal: npx drill continue ${runId} --step ${number} [--note "what you did"]`,
    { step: number, manualTimeoutMs: timeoutMs },
    { notice: true },
  );
  const waitStart = run.clock.now();
  // The person's wait is bounded by manualTimeout, not by the scenario timeout (which bounds drill's work).
  const resumeTimeout = run.pauseTimeout();
  let go: Awaited<ReturnType<typeof gate.waitFor>>;
  try {
    go = await run.guard(gate.waitFor({ runId, step: number, kind: step.step, title, instructions, timeoutMs }, run.signal));
  } finally {
    resumeTimeout();
  }
  const waitedMs = run.clock.now() - waitStart;
  run.recorder.event('manual-continued', `step ${number} (${title}): continued after ${(waitedMs / 1000).toFixed(1)}s${go.note ? `; note: ${go.note}` : ''}`, { step: number, waitedMs }, { notice: true });
  const manual = { performedBy: step.step === 'manual' ? 'a person' : 'a person, then drill', waitedMs, continuedAt: go.continuedAt, ...(go.note ? { note: go.note } : {}) };
  return { ...(await perform()), manual };
}
