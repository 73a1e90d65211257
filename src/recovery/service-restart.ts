import type { DrillContext } from '../engine/drill-context.js';
import { DrillError, StepFailedError } from '../engine/errors.js';
import type { RecoveryStep } from '../scenario/schema.js';
import type { RestartOptions } from '../targets/service/types.js';

/**
 * Restarts the service (optionally deploying another release): new processes must answer /health
 * 200 before traffic moves to them. A release that does not come up fails the step, and the old
 * processes go on serving, as a rollout that never becomes ready leaves the old pods in place.
 */
export async function serviceRestart(
  ctx: DrillContext,
  step: Pick<Extract<RecoveryStep, { step: 'service-restart' }>, 'version' | 'modes'>,
  more: Pick<RestartOptions, 'clock'> = {},
): Promise<Record<string, unknown>> {
  const service = ctx.service;
  if (!service.restart) {
    throw new StepFailedError('RESTART_UNSUPPORTED', `${service.description} is not restarted by the drill; use the target's own steps (on Kubernetes: k8s-rollout-restart)`);
  }
  try {
    return await service.restart({ ...(step.version ? { version: step.version } : {}), ...(step.modes ? { modes: step.modes } : {}), ...more, signal: ctx.signal });
  } catch (error) {
    if (error instanceof DrillError && (error.kind === 'interrupted' || error.kind === 'input')) throw error;
    ctx.signal.throwIfAborted();
    throw new StepFailedError('SERVICE_RESTART_FAILED', `the service did not come back after the restart${step.version ? ` to ${step.version}` : ''}: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
}
