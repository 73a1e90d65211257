import type { DrillContext } from '../engine/drill-context.js';
import { StepFailedError } from '../engine/errors.js';
import type { RecoveryStep } from '../scenario/schema.js';
import { cordonNode } from '../targets/kubernetes/node-drain.js';
import { resolveNode } from './k8s-node-ref.js';

type Step = Extract<RecoveryStep, { step: 'k8s-cordon' }>;

/** Runbook "Node Recovery": `kubectl cordon <node>`. Postcondition: the node is unschedulable. */
export async function k8sCordon(ctx: DrillContext, step: Step): Promise<Record<string, unknown>> {
  await ctx.k8s.requireDrillTarget('k8s-cordon', 'cluster');
  const node = await resolveNode(ctx, step.node, 'k8s-cordon');
  const wasCordoned = await cordonNode(ctx.k8s.api, node);
  const after = await ctx.k8s.api.core.readNode({ name: node });
  if (after.spec?.unschedulable !== true) throw new StepFailedError('CORDON_NOT_APPLIED', `node ${node} is still schedulable after kubectl cordon`);
  return { node, alreadyCordoned: wasCordoned };
}
