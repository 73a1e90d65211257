import type { V1Pod } from '@kubernetes/client-node';

export type KillAmount = 'one' | 'all' | { count: number } | { percent: number };

/** Running and not already on its way out: the pods a kill can still take away. */
export function isLive(pod: V1Pod): boolean {
  return pod.status?.phase === 'Running' && !pod.metadata?.deletionTimestamp;
}

/** How many of `total` pods a kill takes: percent rounds up, so a percentage always kills at least one. */
export function killCount(total: number, amount: KillAmount): number {
  if (total === 0) return 0;
  if (amount === 'one') return 1;
  if (amount === 'all') return total;
  if ('count' in amount) return Math.min(total, amount.count);
  return Math.min(total, Math.ceil((total * amount.percent) / 100));
}

/** The victims, chosen at random (Fisher-Yates with the given source), in name order for the journal. */
export function choosePods(pods: V1Pod[], amount: KillAmount, random: () => number = Math.random): V1Pod[] {
  const live = pods.filter(isLive);
  const shuffled = [...live];
  for (let i = shuffled.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [shuffled[i], shuffled[j]] = [shuffled[j]!, shuffled[i]!];
  }
  return shuffled.slice(0, killCount(live.length, amount)).sort((a, b) => (a.metadata?.name ?? '').localeCompare(b.metadata?.name ?? ''));
}

/** The node running most of these pods (ties: the first by name), for faults aimed at "the busiest node". */
export function busiestNode(pods: V1Pod[]): string | undefined {
  const counts = new Map<string, number>();
  for (const pod of pods.filter(isLive)) {
    const node = pod.spec?.nodeName;
    if (node) counts.set(node, (counts.get(node) ?? 0) + 1);
  }
  return [...counts.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))[0]?.[0];
}
