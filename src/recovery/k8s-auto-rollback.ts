import createDebug from 'debug';
import type { DrillContext } from '../engine/drill-context.js';
import { StepFailedError } from '../engine/errors.js';
import { formatDuration } from '../scenario/duration.js';
import type { RecoveryStep } from '../scenario/schema.js';
import { waitBudgetMs } from '../engine/step-wait-budget.js';
import { k8sRolloutStatus } from './k8s-rollout-status.js';
import { k8sRolloutUndo } from './k8s-rollout-undo.js';
import { ServiceHealth, type GateResult } from './service-health.js';

const debug = createDebug('drill:recovery');

type Step = Extract<RecoveryStep, { step: 'k8s-auto-rollback' }>;
export type AutoRollbackSettings = Pick<Step, 'deployments' | 'healthTimeout' | 'pollInterval' | 'rolloutTimeout' | 'verifyTimeout'>;

/** After a rollout, endpoints follow pod readiness within about a second: the verification polls faster than the gate. */
const VERIFY_POLL_MS = 1000;

/**
 * Runbook "Auto-Rollback Script" (scripts/emergency/auto-rollback.sh) as a step. Postcondition:
 * the service is healthy, either at once (no rollback needed) or after the rollback; otherwise
 * StepFailedError ROLLBACK_FAILED, the script's "Rollback failed, escalating".
 */
export async function k8sAutoRollback(ctx: DrillContext, step: Step): Promise<Record<string, unknown>> {
  // Refused now rather than after the health timeout, when the rollback would need it.
  await ctx.k8s.requireDrillTarget('k8s-auto-rollback');
  return autoRollback(ctx, step, Date.now() + waitBudgetMs(step.timeout));
}

/**
 * The script: wait up to healthTimeout for the health check (`until curl -f …; do sleep 5;
 * done`); if it never passes, `kubectl rollout undo` of each deployment (k8s-rollout-undo),
 * `kubectl rollout status --timeout` (k8s-rollout-status, for every deployment rolled back where
 * the script waits for the API only), then the health check again. Every wait is also cut at
 * `deadline` (epoch ms), so the step fails with what it saw rather than the engine's bare timeout.
 * The journal says whether a rollback was needed: in the output, and in `auto-rollback` events
 * (the script's echo lines), which survive a failure.
 */
export async function autoRollback(ctx: DrillContext, settings: AutoRollbackSettings, deadline: number): Promise<Record<string, unknown>> {
  const left = (ms: number) => Math.max(0, Math.min(ms, deadline - Date.now()));
  const { deployments } = settings;
  await using health = new ServiceHealth(ctx, 'k8s-auto-rollback');
  const gate = await health.waitUntilHealthy(left(settings.healthTimeout), settings.pollInterval);
  if (gate.healthy) {
    ctx.recorder.event('auto-rollback', 'Health check passed, no rollback needed', { rollbackNeeded: false });
    return { rollbackNeeded: false, healthGate: gate, result: 'no rollback needed' };
  }
  ctx.recorder.event('auto-rollback', `Health check failed for ${formatDuration(gate.waitedMs)} (${failures(gate)}), initiating rollback of ${deployments.join(', ')}`, {
    rollbackNeeded: true,
    healthGate: gate,
  });

  const escalate = (why: string, data: Record<string, unknown>): never => {
    const message = `Rollback failed, escalating: ${why}`;
    ctx.recorder.event('auto-rollback', message, { rollbackNeeded: true, healthGate: gate, ...data });
    throw new StepFailedError(
      'ROLLBACK_FAILED',
      `${message}. The previous revision did not restore the service: page the on-call engineer and pick a known-good revision (k8s-rollout-undo toRevision) or fail over`,
    );
  };

  let undo: Record<string, unknown>;
  try {
    undo = await k8sRolloutUndo(ctx, { step: 'k8s-rollout-undo', deployments, timeout: settings.rolloutTimeout });
  } catch (error) {
    if (!(error instanceof StepFailedError)) throw error;
    return escalate(`kubectl rollout undo: ${error.message}`, {});
  }
  const rollback = undo.deployments;
  let status: Record<string, unknown>;
  try {
    status = await k8sRolloutStatus(ctx, { step: 'k8s-rollout-status', deployments, timeout: left(settings.rolloutTimeout) });
  } catch (error) {
    if (!(error instanceof StepFailedError)) throw error;
    return escalate(error.message, { rollback });
  }
  const verify = await health.waitUntilHealthy(left(settings.verifyTimeout), Math.min(settings.pollInterval, VERIFY_POLL_MS));
  if (!verify.healthy) {
    return escalate(`rolled back and rolled out, but the health check still fails after ${formatDuration(verify.waitedMs)} (${failures(verify)})`, { rollback, verify });
  }
  ctx.recorder.event('auto-rollback', 'Rollback successful', { rollbackNeeded: true });
  debug('auto-rollback of %s successful', deployments.join(', '));
  return { rollbackNeeded: true, healthGate: gate, rollback, rolloutStatus: status.deployments, verify, result: 'rollback successful' };
}

function failures(result: GateResult): string {
  return result.failing.map((f) => `${f.probe}: ${f.error}`).join('; ');
}
