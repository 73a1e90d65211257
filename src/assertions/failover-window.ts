import type { Journal } from '../engine/journal-types.js';
import { formatDuration } from '../scenario/duration.js';

/**
 * With failover routing, where the RTO went before DNS moved: when the drill's health checks
 * declared the lost region unhealthy (after FailureThreshold failed checks, RequestInterval apart)
 * and how long clients may keep the old answer after that (the record's TTL). Undefined without
 * health-check transitions after the fault (simple routing, or no flip).
 */
export function failoverWindowText(journal: Journal, tFault: number): string | undefined {
  const down = journal.events.find((e) => e.kind === 'health-check' && e.t >= tFault && e.data?.healthy === false);
  if (!down) return undefined;
  const regions = journal.events.find((e) => e.kind === 'regions')?.data as { ttl?: number; failover?: { requestInterval?: number; failureThreshold?: number } } | undefined;
  const ttl = regions?.ttl;
  const routing = regions?.failover;
  const how = routing ? `${routing.failureThreshold} failed checks ${routing.requestInterval} s apart` : `${String(down.data?.consecutive)} failed checks`;
  const stale = ttl !== undefined ? `, then clients may keep the lost region's cached answer for the record's TTL (${ttl} s): until T_fault+${formatDuration(down.t - tFault + ttl * 1000)} at the latest` : '';
  return `the health check of ${String(down.data?.endpoint)} declared it unhealthy at T_fault+${formatDuration(down.t - tFault)} (${how})${stale}`;
}
