import { CoreV1Api, KubeConfig, type V1Node } from '@kubernetes/client-node';
import { EnvironmentError } from '../../engine/errors.js';
import { apiStatus } from './kube-api.js';
import type { ClusterNode } from './types.js';

/** A client configuration from a kubeconfig file, on the given context (the file's current one when omitted). */
export function loadKubeConfig(kubeconfigPath: string, context?: string): KubeConfig {
  const kc = new KubeConfig();
  try {
    kc.loadFromFile(kubeconfigPath);
  } catch (error) {
    throw new EnvironmentError('KUBECONFIG_UNREADABLE', `cannot read kubeconfig ${kubeconfigPath}: ${(error as Error).message}`, { cause: error });
  }
  if (context) kc.setCurrentContext(context);
  return kc;
}

export function toClusterNode(node: V1Node): ClusterNode {
  const ready = node.status?.conditions?.find((c) => c.type === 'Ready')?.status === 'True';
  const zone = node.metadata?.labels?.['topology.kubernetes.io/zone'];
  return {
    name: node.metadata?.name ?? '',
    ready,
    unschedulable: node.spec?.unschedulable === true,
    fake: node.metadata?.annotations?.['kwok.x-k8s.io/node'] === 'fake',
    ...(zone ? { zone } : {}),
  };
}

/** The cluster's nodes as drills see them; an unreachable apiserver is an environment failure. */
export async function listClusterNodes(kc: KubeConfig): Promise<ClusterNode[]> {
  try {
    const list = await kc.makeApiClient(CoreV1Api).listNode();
    return list.items.map(toClusterNode).sort((a, b) => a.name.localeCompare(b.name));
  } catch (error) {
    // Reached, but refused: not an unreachable cluster, and the fix is a grant, not a network.
    const status = apiStatus(error);
    const where = `context "${kc.getCurrentContext()}" (${kc.getCurrentCluster()?.server ?? 'no server'})`;
    if (status === 401) {
      throw new EnvironmentError(
        'K8S_UNAUTHORIZED',
        `cannot list nodes through ${where}: HTTP 401, the apiserver did not accept the credentials; check the kubeconfig's user (an expired or revoked token, a wrong client certificate)`,
        { cause: error },
      );
    }
    if (status === 403) {
      throw new EnvironmentError(
        'K8S_FORBIDDEN',
        `cannot list nodes through ${where}: HTTP 403, ${(error as Error).message}; ` +
          'grant the drill list and get on nodes (deploy/optional/node-reader.yaml), or use a context that has them',
        { cause: error },
      );
    }
    throw new EnvironmentError(
      'K8S_UNREACHABLE',
      `cannot list nodes through context "${kc.getCurrentContext()}" (${kc.getCurrentCluster()?.server ?? 'no server'}): ${(error as Error).message}`,
      { cause: error },
    );
  }
}
