import type { V1Deployment, V1EndpointSlice } from '@kubernetes/client-node';
import type { KubeApi } from './kube-api.js';

/** The pods behind a Service that are ready, by pod name (an endpoint without a pod is named by its address). */
export function readyEndpoints(slices: V1EndpointSlice[]): string[] {
  const ready = new Set<string>();
  for (const slice of slices) {
    for (const endpoint of slice.endpoints ?? []) {
      // EndpointSlice API: a nil `ready` means ready; terminating endpoints are never ready.
      if (endpoint.conditions?.ready === false) continue;
      ready.add(endpoint.targetRef?.name ?? endpoint.addresses.join(','));
    }
  }
  return [...ready].sort();
}

export async function serviceReadyEndpoints(api: KubeApi, namespace: string, service: string): Promise<string[]> {
  const list = await api.discovery.listNamespacedEndpointSlice({ namespace, labelSelector: `kubernetes.io/service-name=${service}` });
  return readyEndpoints(list.items);
}

export function availableReplicas(d: V1Deployment): number {
  return d.status?.availableReplicas ?? 0;
}
