import { sleep } from '../engine/clock.js';
import type { DrillContext } from '../engine/drill-context.js';
import { StepFailedError } from '../engine/errors.js';
import type { RecoveryStep } from '../scenario/schema.js';
import { isNotFound } from '../targets/kubernetes/kube-api.js';
import { resolveNode } from './k8s-node-ref.js';
import { waitBudgetMs } from '../engine/step-wait-budget.js';

type Step = Extract<RecoveryStep, { step: 'k8s-delete-node' }>;

/**
 * Runbook "Drain and replace unhealthy nodes": `kubectl delete node <node>`. The pod garbage
 * collector then removes pods still bound to it. Postcondition: the Node object is gone.
 */
export async function k8sDeleteNode(ctx: DrillContext, step: Step): Promise<Record<string, unknown>> {
  const { api } = ctx.k8s;
  await ctx.k8s.requireDrillTarget('k8s-delete-node', 'cluster');
  const node = await resolveNode(ctx, step.node, 'k8s-delete-node');
  const podsLeft = (await api.core.listPodForAllNamespaces({ fieldSelector: `spec.nodeName=${node}` })).items.length;
  await api.core.deleteNode({ name: node }).catch((error: unknown) => {
    if (!isNotFound(error)) throw error;
  });
  const deadline = Date.now() + waitBudgetMs(step.timeout);
  for (;;) {
    const gone = await api.core.readNode({ name: node }).then(
      () => false,
      (error: unknown) => (isNotFound(error) ? true : Promise.reject(error)),
    );
    if (gone) break;
    if (Date.now() > deadline) throw new StepFailedError('NODE_NOT_DELETED', `node ${node} still exists after kubectl delete node (a finalizer?)`);
    await sleep(100, ctx.signal);
  }
  return { node, podsStillBound: podsLeft };
}
