import type { DrillContext } from '../engine/drill-context.js';
import { StepFailedError } from '../engine/errors.js';
import type { RecoveryStep } from '../scenario/schema.js';
import { formatDuration } from '../scenario/duration.js';
import { waitForRollout } from '../targets/kubernetes/wait-for-rollout.js';
import { waitBudgetMs } from '../engine/step-wait-budget.js';

type Step = Extract<RecoveryStep, { step: 'k8s-rollout-status' }>;

/**
 * Runbook "Monitor rollback progress": `kubectl rollout status deployment/<name> --timeout=<step
 * timeout>` for each Deployment in turn. Postcondition: every one rolled out (all replicas
 * updated and available, no old pods left); a progress deadline exceeded or the time running out
 * fails the step with kubectl's last message.
 */
export async function k8sRolloutStatus(ctx: DrillContext, step: Step): Promise<Record<string, unknown>> {
  const { api, namespace } = ctx.k8s;
  const deadline = Date.now() + waitBudgetMs(step.timeout);
  const results = [];
  for (const name of step.deployments) {
    const r = await waitForRollout(api, namespace, name, { timeoutMs: Math.max(0, deadline - Date.now()), signal: ctx.signal });
    results.push({ deployment: name, message: r.state.message, waitedMs: r.waitedMs });
    if (!r.state.done) {
      const why = r.state.failed ? r.state.message : `timed out after ${formatDuration(waitBudgetMs(step.timeout))}: ${r.state.message}`;
      throw new StepFailedError(r.state.failed ? 'ROLLOUT_DEADLINE_EXCEEDED' : 'ROLLOUT_NOT_COMPLETE', `kubectl rollout status deployment/${name}: ${why}`);
    }
  }
  return { namespace, deployments: results };
}
