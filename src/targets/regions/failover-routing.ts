import type { FailoverRoutingSpec } from '../../scenario/regions-schema.js';
import type { TeardownStack } from '../../engine/teardown-stack.js';
import type { Route53Failover } from './route53-failover.js';
import type { Region } from './types.js';

/**
 * Route 53 failover routing for the service name, through the API: one HTTP health check per
 * region (its first API address, the service's port, `resourcePath`), then the PRIMARY record set
 * (the primary region's API addresses, with its check) and the SECONDARY (the DR region's, with
 * its own). The undo of each is pushed before it exists, in the order Route 53 needs at teardown:
 * the record sets go first, then the health checks they name (a check in use cannot be deleted).
 */
export async function createFailoverRouting(
  api: Route53Failover,
  options: { serviceName: string; port: number; ttl: number; routing: FailoverRoutingSpec; runId: string; regions: { primary: Region; dr: Region }; teardown: TeardownStack },
): Promise<{ primaryCheck: string; drCheck: string }> {
  const { serviceName, port, ttl, routing, runId, regions, teardown } = options;
  const checks: string[] = [];
  teardown.push('delete the Route 53 health checks', async () => {
    for (const id of checks) await api.deleteHealthCheck(id);
  });
  teardown.push(`delete the failover records of ${serviceName}`, async () => api.deleteFailoverSets(serviceName));
  const check = async (region: Region) => {
    const id = await api.createHealthCheck(
      { ipAddress: region.apiAddresses[0]!, port, resourcePath: routing.resourcePath, requestInterval: routing.requestInterval, failureThreshold: routing.failureThreshold },
      `drill-${runId}-${region.role}-${Date.now()}`,
    );
    checks.push(id);
    return id;
  };
  const primaryCheck = await check(regions.primary);
  const drCheck = await check(regions.dr);
  await api.createFailoverA({ name: serviceName, values: [...regions.primary.apiAddresses].sort(), ttl, failover: 'PRIMARY', setIdentifier: `${regions.primary.name}-primary`, healthCheckId: primaryCheck });
  await api.createFailoverA({ name: serviceName, values: [...regions.dr.apiAddresses].sort(), ttl, failover: 'SECONDARY', setIdentifier: `${regions.dr.name}-secondary`, healthCheckId: drCheck });
  return { primaryCheck, drCheck };
}
