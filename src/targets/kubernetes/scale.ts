import { sleep } from '../../engine/clock.js';
import { MERGE_PATCH, type KubeApi } from './kube-api.js';

/** kubectl scale: sets spec.replicas; returns what it was. */
export async function scaleDeployment(api: KubeApi, namespace: string, name: string, replicas: number): Promise<number> {
  const before = await api.apps.readNamespacedDeployment({ name, namespace });
  await api.apps.patchNamespacedDeployment({ name, namespace, body: { spec: { replicas } } }, MERGE_PATCH);
  return before.spec?.replicas ?? 1;
}

/** The pods of a Deployment (by its selector), including ones being deleted. */
export async function deploymentPods(api: KubeApi, namespace: string, name: string) {
  const d = await api.apps.readNamespacedDeployment({ name, namespace });
  const labels = d.spec?.selector.matchLabels ?? {};
  const selector = Object.entries(labels)
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
  return (await api.core.listNamespacedPod({ namespace, labelSelector: selector })).items;
}

/** Waits until the Deployment has no pods left at all; false when `timeoutMs` passed first. */
export async function waitForNoPods(api: KubeApi, namespace: string, name: string, options: { timeoutMs: number; signal?: AbortSignal }): Promise<boolean> {
  const deadline = Date.now() + options.timeoutMs;
  for (;;) {
    if ((await deploymentPods(api, namespace, name)).length === 0) return true;
    if (Date.now() > deadline) return false;
    await sleep(100, options.signal);
  }
}
