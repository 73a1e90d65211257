import { sleep } from '../engine/clock.js';
import type { DrillContext } from '../engine/drill-context.js';
import { StepFailedError } from '../engine/errors.js';
import type { RecoveryStep } from '../scenario/schema.js';
import { isNotFound } from '../targets/kubernetes/kube-api.js';
import { deploymentPods, scaleDeployment } from '../targets/kubernetes/scale.js';
import { waitBudgetMs } from '../engine/step-wait-budget.js';

type Step = Extract<RecoveryStep, { step: 'k8s-scale' }>;

/**
 * `kubectl scale deployment <name> --replicas=N` (runbook "Stop write operations" with 0).
 * Postcondition: exactly N pods, all available (for 0: none left at all, not even terminating).
 */
export async function k8sScale(ctx: DrillContext, step: Step): Promise<Record<string, unknown>> {
  const { api, namespace } = ctx.k8s;
  await ctx.k8s.requireDrillTarget('k8s-scale');
  const name = step.deployment;
  const from = await scaleDeployment(api, namespace, name, step.replicas).catch((error: unknown) => {
    if (isNotFound(error)) throw new StepFailedError('DEPLOYMENT_NOT_FOUND', `deployment "${name}" not found in namespace ${namespace}`);
    throw error;
  });
  const started = Date.now();
  const deadline = started + waitBudgetMs(step.timeout);
  for (;;) {
    const d = await api.apps.readNamespacedDeployment({ name, namespace });
    const pods = (await deploymentPods(api, namespace, name)).length;
    const available = d.status?.availableReplicas ?? 0;
    const observed = (d.status?.observedGeneration ?? 0) >= (d.metadata?.generation ?? 0);
    if (observed && pods === step.replicas && available === step.replicas) break;
    if (Date.now() > deadline) {
      throw new StepFailedError('SCALE_NOT_REACHED', `deployment "${name}" scaled to ${step.replicas}: ${pods} pod(s) exist and ${available} are available`);
    }
    await sleep(100, ctx.signal);
  }
  return { deployment: name, from, to: step.replicas, reachedAfterMs: Date.now() - started };
}
