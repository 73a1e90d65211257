import { ABSENT, left, removed, type ReapOutcome } from '../../engine/reap-outcome.js';
import type { Resource } from '../../engine/resource-ledger.js';
import { destroyNetworkResources } from './drill-network.js';

/** A drill network's namespace, or its guard route, left by a drill that could not remove it. */
export async function reapNetwork(r: Extract<Resource, { kind: 'netns' | 'guard-route' }>): Promise<ReapOutcome> {
  const what = r.kind === 'netns' ? `netns ${r.name}` : `guard route ${r.cidr} metric ${r.metric}`;
  try {
    const gone = await destroyNetworkResources(r.kind === 'netns' ? { netns: r.name } : { guard: { cidr: r.cidr, metric: r.metric } });
    return gone.length > 0 ? removed(what) : ABSENT;
  } catch (error) {
    return left(what, error instanceof Error ? error.message : String(error));
  }
}
