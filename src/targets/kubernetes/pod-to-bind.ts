import type { V1Pod } from '@kubernetes/client-node';
import { EnvironmentError } from '../../engine/errors.js';
import { isNotFound, type KubeApi } from './kube-api.js';
import { API_SERVICE } from './kubernetes-service.js';
import { matchesSelector, parseSelector, selectorFromLabels } from './label-selector.js';

const ready = (p: V1Pod) => p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') === true;

/**
 * The pod a pod-bound token is bound to, as an attacker gets in: a ready pod of the account that
 * serves traffic, i.e. one the API Service selects (a standby green pod of a blue-green pair is
 * selected by no Service), the first by name; where the namespace has no such Service (custom
 * manifests), the first ready pod of the account.
 */
export async function podToBind(api: KubeApi, namespace: string, serviceAccount: string): Promise<V1Pod> {
  const service = await api.core.readNamespacedService({ name: API_SERVICE, namespace }).catch((error: unknown) => {
    if (isNotFound(error)) return undefined;
    throw error;
  });
  const selector = service?.spec?.selector ? parseSelector(selectorFromLabels(service.spec.selector)) : undefined;
  const candidates = (await api.core.listNamespacedPod({ namespace })).items
    .filter((p) => (p.spec?.serviceAccountName ?? 'default') === serviceAccount && ready(p) && !p.metadata?.deletionTimestamp)
    .sort((a, b) => a.metadata!.name!.localeCompare(b.metadata!.name!));
  const pod = selector ? candidates.find((p) => matchesSelector(selector, p.metadata?.labels)) : candidates[0];
  if (!pod) {
    throw new EnvironmentError(
      'NO_POD_TO_BIND',
      `no ready pod of ${namespace} runs as service account ${serviceAccount}${selector ? ` behind Service ${API_SERVICE}` : ''}: a pod-bound token needs one (is the service deployed and ready?)`,
    );
  }
  return pod;
}
