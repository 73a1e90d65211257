import type { DrillContext } from '../engine/drill-context.js';
import { StepFailedError } from '../engine/errors.js';
import type { RecoveryStep } from '../scenario/schema.js';
import { apiMessage, isNotFound, MERGE_PATCH } from '../targets/kubernetes/kube-api.js';

type Step = Extract<RecoveryStep, { step: 'k8s-configmap-patch' }>;

/**
 * Runbook "Enable read-only mode on remaining replicas": `kubectl patch configmap <name> --patch
 * '{"data":{"READ_ONLY_MODE":"true"}}'`. Pods read it at start, which is why the runbook restarts
 * them next. Postcondition: the ConfigMap holds every value.
 */
export async function k8sConfigMapPatch(ctx: DrillContext, step: Step): Promise<Record<string, unknown>> {
  const { api, namespace } = ctx.k8s;
  await ctx.k8s.requireDrillTarget('k8s-configmap-patch');
  const before = await api.core.readNamespacedConfigMap({ name: step.configMap, namespace }).catch((error: unknown) => {
    if (isNotFound(error)) throw new StepFailedError('CONFIGMAP_NOT_FOUND', `configmap "${step.configMap}" not found in namespace ${namespace}`);
    throw error;
  });
  try {
    await api.core.patchNamespacedConfigMap({ name: step.configMap, namespace, body: { data: step.data } }, MERGE_PATCH);
  } catch (error) {
    throw new StepFailedError('PATCH_REJECTED', `the apiserver refused the patch of configmap "${step.configMap}": ${apiMessage(error)}`, { cause: error });
  }
  const after = (await api.core.readNamespacedConfigMap({ name: step.configMap, namespace })).data ?? {};
  const wrong = Object.entries(step.data).filter(([k, v]) => after[k] !== v);
  if (wrong.length > 0) {
    throw new StepFailedError('PATCH_NOT_APPLIED', `configmap "${step.configMap}" does not hold ${wrong.map(([k, v]) => `${k}=${v}`).join(', ')} after the patch`);
  }
  const previous = Object.fromEntries(Object.keys(step.data).map((k) => [k, before.data?.[k] ?? null]));
  return { configMap: step.configMap, previous, set: step.data };
}
