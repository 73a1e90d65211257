import type { DrillContext, FaultHandle } from '../engine/drill-context.js';
import { EnvironmentError, InputError } from '../engine/errors.js';
import type { Fault } from '../scenario/schema.js';
import { isNotFound } from '../targets/kubernetes/kube-api.js';
import { scaleDeployment, waitForNoPods } from '../targets/kubernetes/scale.js';

type ScaleToZero = Extract<Fault, { type: 'k8s-scale-to-zero' }>;

/**
 * An operator error: `kubectl scale --replicas=0` on the wrong Deployment. T_fault is when the
 * scale was sent; the handle is returned once none of its pods is left. Reverted (scaled back)
 * unless recovery has already set a replica count.
 */
export async function injectScaleToZero(ctx: DrillContext, fault: ScaleToZero): Promise<FaultHandle> {
  const { api, namespace } = ctx.k8s;
  await ctx.k8s.requireDrillTarget('k8s-scale-to-zero');
  const name = fault.deployment;
  const scalingAt = ctx.clock.now();
  const before = await scaleDeployment(api, namespace, name, 0).catch((error: unknown) => {
    if (isNotFound(error)) throw new InputError('DEPLOYMENT_NOT_FOUND', `k8s-scale-to-zero: no deployment ${name} in namespace ${namespace}`);
    throw error;
  });
  if (!(await waitForNoPods(api, namespace, name, { timeoutMs: 30_000, signal: ctx.signal }))) {
    throw new EnvironmentError('PODS_NOT_GONE', `deployment ${name} was scaled to 0 and still has pods after 30s; is the node agent (kwok/kubelet) running?`);
  }
  return {
    description: `deployment ${name} scaled from ${before} to 0 replicas`,
    details: { deployment: name, replicasBefore: before },
    inEffectAt: scalingAt,
    async [Symbol.asyncDispose]() {
      const current = await api.apps.readNamespacedDeployment({ name, namespace }).catch((error: unknown) => {
        if (isNotFound(error)) return undefined;
        throw error;
      });
      if (current && (current.spec?.replicas ?? 0) === 0) await scaleDeployment(api, namespace, name, before);
    },
  };
}
