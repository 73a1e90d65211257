import { sleep } from '../engine/clock.js';
import type { DrillContext } from '../engine/drill-context.js';
import { StepFailedError } from '../engine/errors.js';
import type { RecoveryStep } from '../scenario/schema.js';
import { cordonNode, drainPlan, evictPod, podsToWaitFor } from '../targets/kubernetes/node-drain.js';
import { resolveNode } from './k8s-node-ref.js';
import { waitBudgetMs } from '../engine/step-wait-budget.js';

type Step = Extract<RecoveryStep, { step: 'k8s-drain' }>;

/**
 * Runbook "Drain and replace unhealthy nodes": `kubectl drain <node> --delete-emptydir-data
 * --force --ignore-daemonsets`: cordon, then evict every pod through the eviction API (so
 * PodDisruptionBudgets hold; a refused eviction is retried every 5 s), then wait until the pods are
 * gone. Postcondition: every eviction was accepted and no evicted pod is left to wait for.
 */
export async function k8sDrain(ctx: DrillContext, step: Step): Promise<Record<string, unknown>> {
  const { api } = ctx.k8s;
  await ctx.k8s.requireDrillTarget('k8s-drain', 'cluster');
  const node = await resolveNode(ctx, step.node, 'k8s-drain');
  const deadline = Date.now() + waitBudgetMs(step.timeout);
  await cordonNode(api, node);
  const onNode = () => api.core.listPodForAllNamespaces({ fieldSelector: `spec.nodeName=${node}` }).then((l) => l.items);
  const plan = drainPlan(await onNode());
  const evictions = await Promise.all(plan.evict.map((pod) => evictPod(api, pod, deadline, ctx.signal)));
  const refused = evictions.filter((e) => e.outcome === 'gave-up');
  if (refused.length > 0) {
    throw new StepFailedError(
      'DRAIN_BLOCKED',
      `kubectl drain ${node}: a PodDisruptionBudget still refused evicting ${refused.map((e) => e.pod).join(', ')} when the step's time ran out ` +
        `(${refused.reduce((n, e) => n + e.refusals, 0)} refusals); the budget needs healthy pods elsewhere first`,
    );
  }
  const uids = new Set(plan.evict.map((p) => p.metadata!.uid!));
  let waiting = podsToWaitFor(await onNode(), uids, step.skipWaitForDeleteTimeout);
  while (waiting.length > 0) {
    if (Date.now() > deadline) {
      throw new StepFailedError(
        'DRAIN_NOT_COMPLETE',
        `kubectl drain ${node}: ${waiting.map((p) => `${p.metadata?.namespace}/${p.metadata?.name}`).join(', ')} not deleted yet; ` +
          'a node whose kubelet is gone never confirms deletions: set skipWaitForDeleteTimeout (kubectl --skip-wait-for-delete-timeout)',
      );
    }
    await sleep(250, ctx.signal);
    waiting = podsToWaitFor(await onNode(), uids, step.skipWaitForDeleteTimeout);
  }
  const stillTerminating = (await onNode()).filter((p) => uids.has(p.metadata?.uid ?? '')).map((p) => `${p.metadata?.namespace}/${p.metadata?.name}`);
  ctx.recorder.event('drain', `node ${node} drained: ${evictions.length} pod(s) evicted, ${plan.skipped.length} skipped`, { warnings: plan.warnings });
  return {
    node,
    evicted: evictions,
    skipped: plan.skipped,
    warnings: plan.warnings,
    ...(stillTerminating.length ? { notWaitedFor: stillTerminating } : {}),
  };
}
