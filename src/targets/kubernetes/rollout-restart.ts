import { STRATEGIC_MERGE_PATCH, type KubeApi } from './kube-api.js';

export const RESTARTED_AT = 'kubectl.kubernetes.io/restartedAt';

/** kubectl rollout restart: a new pod-template annotation, so the Deployment rolls every pod. */
export async function rolloutRestart(api: KubeApi, namespace: string, name: string, at: Date = new Date()): Promise<string> {
  const restartedAt = at.toISOString();
  await api.apps.patchNamespacedDeployment(
    { name, namespace, body: { spec: { template: { metadata: { annotations: { [RESTARTED_AT]: restartedAt } } } } } },
    STRATEGIC_MERGE_PATCH,
  );
  return restartedAt;
}
