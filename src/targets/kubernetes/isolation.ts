import { NetworkingV1Api, type V1Taint } from '@kubernetes/client-node';
import { isNotFound, JSON_PATCH, type KubeApi } from './kube-api.js';
import { RUN_LABEL, runLabelValue } from './manifest-set.js';

/** The taint isolate-compromised-nodes puts on a node: NoExecute, so every pod without a toleration leaves it. */
export const COMPROMISED_TAINT_KEY = 'drill.dev/compromised';
export const DENY_ALL_POLICY = 'drill-deny-all';

/** Adds the NoExecute taint (value: the run) unless the node has it; returns whether it was added. */
export async function taintCompromised(api: KubeApi, node: string, runId: string): Promise<boolean> {
  const current = (await api.core.readNode({ name: node })).spec?.taints ?? [];
  if (current.some((t) => t.key === COMPROMISED_TAINT_KEY && t.effect === 'NoExecute')) return false;
  const taint: V1Taint = { key: COMPROMISED_TAINT_KEY, value: runLabelValue(runId), effect: 'NoExecute' };
  await api.core.patchNode({ name: node, body: current.length === 0 ? [{ op: 'add', path: '/spec/taints', value: [taint] }] : [{ op: 'add', path: '/spec/taints/-', value: taint }] }, JSON_PATCH);
  return true;
}

/** Takes the taint off again and makes the node schedulable (teardown); a node already gone is fine. */
export async function releaseNode(api: KubeApi, node: string): Promise<void> {
  try {
    const spec = (await api.core.readNode({ name: node })).spec ?? {};
    const taints = (spec.taints ?? []).filter((t) => t.key !== COMPROMISED_TAINT_KEY);
    await api.core.patchNode(
      { name: node, body: [{ op: 'add', path: '/spec/taints', value: taints }, { op: 'add', path: '/spec/unschedulable', value: false }] },
      JSON_PATCH,
    );
  } catch (error) {
    if (!isNotFound(error)) throw error;
  }
}

/** A NetworkPolicy selecting every pod of the namespace with no ingress and no egress rule: all traffic denied, where a network plugin enforces it. */
export async function denyAllTraffic(api: KubeApi, namespace: string, runId: string): Promise<void> {
  await api.kc.makeApiClient(NetworkingV1Api).createNamespacedNetworkPolicy({
    namespace,
    body: {
      metadata: { name: DENY_ALL_POLICY, labels: { [RUN_LABEL]: runLabelValue(runId) } },
      spec: { podSelector: {}, policyTypes: ['Ingress', 'Egress'] },
    },
  });
}

export async function removeDenyAll(api: KubeApi, namespace: string): Promise<void> {
  await api.kc
    .makeApiClient(NetworkingV1Api)
    .deleteNamespacedNetworkPolicy({ name: DENY_ALL_POLICY, namespace })
    .catch((error: unknown) => {
      if (!isNotFound(error)) throw error;
    });
}

export async function denyAllPresent(api: KubeApi, namespace: string): Promise<boolean> {
  return api.kc
    .makeApiClient(NetworkingV1Api)
    .readNamespacedNetworkPolicy({ name: DENY_ALL_POLICY, namespace })
    .then(() => true)
    .catch((error: unknown) => (isNotFound(error) ? false : Promise.reject(error)));
}
