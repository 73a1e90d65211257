import type { V1Node } from '@kubernetes/client-node';
import type { KubeApi } from './kube-api.js';

/** Taint effects that keep pods without a matching toleration off a node. */
const BLOCKING_EFFECTS = new Set(['NoSchedule', 'NoExecute']);

/**
 * Why a node adds no capacity for ordinary pods, or undefined when it does: it must be Ready, not
 * cordoned, not being deleted, and free of NoSchedule/NoExecute taints. Ready alone is not enough:
 * the node lifecycle controller keeps `node.kubernetes.io/not-ready:NoSchedule` on a new node for a
 * moment after it turns Ready, and the scheduler places nothing there until that taint is gone.
 */
export function unschedulableReason(node: V1Node): string | undefined {
  if (node.metadata?.deletionTimestamp) return 'being deleted';
  const ready = node.status?.conditions?.find((c) => c.type === 'Ready')?.status;
  if (ready !== 'True') return `Ready=${ready ?? 'unknown'}`;
  if (node.spec?.unschedulable === true) return 'cordoned';
  const taints = (node.spec?.taints ?? []).filter((t) => BLOCKING_EFFECTS.has(t.effect));
  if (taints.length > 0) return `tainted ${taints.map((t) => `${t.key}:${t.effect}`).join(', ')}`;
  return undefined;
}

/** The names of the nodes new pods can be scheduled on, sorted. */
export async function schedulableNodeNames(api: KubeApi): Promise<string[]> {
  const nodes = (await api.core.listNode()).items;
  return nodes
    .filter((n) => unschedulableReason(n) === undefined)
    .map((n) => n.metadata!.name!)
    .sort();
}
