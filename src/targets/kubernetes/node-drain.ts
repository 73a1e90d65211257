import type { V1Pod } from '@kubernetes/client-node';
import { sleep } from '../../engine/clock.js';
import { apiStatus, isNotFound, JSON_PATCH, type KubeApi } from './kube-api.js';

/** kubectl retries an eviction a PodDisruptionBudget refuses (HTTP 429) every 5 seconds. */
export const EVICTION_RETRY_MS = 5_000;

export interface DrainPlan {
  evict: V1Pod[];
  skipped: Array<{ pod: string; why: string }>;
  /** What kubectl drain would warn about (it proceeds because of --force / --delete-emptydir-data). */
  warnings: string[];
}

const podName = (p: V1Pod) => `${p.metadata?.namespace}/${p.metadata?.name}`;

/**
 * What `kubectl drain --ignore-daemonsets --delete-emptydir-data --force` does with each pod on
 * the node: DaemonSet and mirror (static) pods stay; everything else is evicted, including pods
 * no controller will recreate (--force) and pods with emptyDir data (--delete-emptydir-data).
 */
export function drainPlan(pods: V1Pod[]): DrainPlan {
  const plan: DrainPlan = { evict: [], skipped: [], warnings: [] };
  for (const pod of pods) {
    const controller = pod.metadata?.ownerReferences?.find((o) => o.controller);
    if (pod.metadata?.annotations?.['kubernetes.io/config.mirror']) {
      plan.skipped.push({ pod: podName(pod), why: 'mirror (static) pod' });
      continue;
    }
    if (controller?.kind === 'DaemonSet') {
      plan.skipped.push({ pod: podName(pod), why: 'DaemonSet-managed (--ignore-daemonsets)' });
      continue;
    }
    if (!controller) plan.warnings.push(`deleting ${podName(pod)}: not managed by a controller, it will not come back (--force)`);
    if (pod.spec?.volumes?.some((v) => v.emptyDir)) plan.warnings.push(`deleting ${podName(pod)}: its emptyDir data is lost (--delete-emptydir-data)`);
    plan.evict.push(pod);
  }
  return plan;
}

/** `kubectl cordon`; returns whether the node was cordoned already. */
export async function cordonNode(api: KubeApi, node: string): Promise<boolean> {
  const before = await api.core.readNode({ name: node });
  if (before.spec?.unschedulable === true) return true;
  await api.core.patchNode({ name: node, body: [{ op: 'add', path: '/spec/unschedulable', value: true }] }, JSON_PATCH);
  return false;
}

export interface EvictionResult {
  pod: string;
  /** Evictions refused by a PodDisruptionBudget before one was accepted. */
  refusals: number;
  outcome: 'evicted' | 'already-gone' | 'gave-up';
}

/** The eviction API, retried while a PodDisruptionBudget refuses it (429), until `deadline`. */
export async function evictPod(api: KubeApi, pod: V1Pod, deadline: number, signal?: AbortSignal): Promise<EvictionResult> {
  const name = pod.metadata!.name!;
  const namespace = pod.metadata!.namespace!;
  let refusals = 0;
  for (;;) {
    try {
      await api.core.createNamespacedPodEviction({ name, namespace, body: { apiVersion: 'policy/v1', kind: 'Eviction', metadata: { name, namespace } } });
      return { pod: podName(pod), refusals, outcome: 'evicted' };
    } catch (error) {
      if (isNotFound(error)) return { pod: podName(pod), refusals, outcome: 'already-gone' };
      if (apiStatus(error) !== 429) throw error;
      refusals++;
      if (Date.now() + EVICTION_RETRY_MS > deadline) return { pod: podName(pod), refusals, outcome: 'gave-up' };
      await sleep(EVICTION_RETRY_MS, signal);
    }
  }
}

/**
 * Pods still to wait for: those not deleted yet, except ones whose deletionTimestamp (the end of
 * their grace period) is more than `skipAfterMs` past, as kubectl --skip-wait-for-delete-timeout
 * decides it; 0 waits for every one.
 */
export function podsToWaitFor(pods: V1Pod[], uids: Set<string>, skipAfterMs: number, now = Date.now()): V1Pod[] {
  return pods.filter((p) => {
    if (!uids.has(p.metadata?.uid ?? '')) return false;
    const since = p.metadata?.deletionTimestamp ? now - new Date(p.metadata.deletionTimestamp).getTime() : 0;
    return !(skipAfterMs > 0 && p.metadata?.deletionTimestamp && since >= skipAfterMs);
  });
}
