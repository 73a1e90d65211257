import type { DrillContext } from '../engine/drill-context.js';
import { StepFailedError } from '../engine/errors.js';
import type { RecoveryStep } from '../scenario/schema.js';
import { isNotFound } from '../targets/kubernetes/kube-api.js';
import { rolloutRestart } from '../targets/kubernetes/rollout-restart.js';
import { waitForRollout } from '../targets/kubernetes/wait-for-rollout.js';
import { waitBudgetMs } from '../engine/step-wait-budget.js';

type Step = Extract<RecoveryStep, { step: 'k8s-rollout-restart' }>;

/**
 * Runbook "Restart read-only instances" / "Restart application pods": `kubectl rollout restart
 * deployment/<name>` (a restartedAt annotation on the pod template, so every pod is replaced and
 * reads its configuration again). Postcondition, with `wait`: each restart has rolled out.
 */
export async function k8sRolloutRestart(ctx: DrillContext, step: Step): Promise<Record<string, unknown>> {
  return restartDeployments(ctx, step.deployments, step.wait, step.timeout);
}

export async function restartDeployments(ctx: DrillContext, deployments: string[], wait: boolean, timeoutMs: number): Promise<Record<string, unknown>> {
  const { api, namespace } = ctx.k8s;
  await ctx.k8s.requireDrillTarget('k8s-rollout-restart');
  const restarted: Array<{ deployment: string; restartedAt: string; rollout?: string }> = [];
  for (const name of deployments) {
    const restartedAt = await rolloutRestart(api, namespace, name).catch((error: unknown) => {
      if (isNotFound(error)) throw new StepFailedError('DEPLOYMENT_NOT_FOUND', `deployment "${name}" not found in namespace ${namespace}`);
      throw error;
    });
    restarted.push({ deployment: name, restartedAt });
  }
  if (wait) {
    const deadline = Date.now() + waitBudgetMs(timeoutMs);
    for (const r of restarted) {
      const result = await waitForRollout(api, namespace, r.deployment, { timeoutMs: Math.max(0, deadline - Date.now()), signal: ctx.signal });
      r.rollout = result.state.message;
      if (!result.state.done) throw new StepFailedError('RESTART_NOT_ROLLED_OUT', `kubectl rollout restart deployment/${r.deployment}: ${result.state.message}`);
    }
  }
  return { namespace, restarted };
}
