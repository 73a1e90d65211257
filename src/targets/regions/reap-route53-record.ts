import { ABSENT, left, removed, type ReapOutcome } from '../../engine/reap-outcome.js';
import type { Resource } from '../../engine/resource-ledger.js';
import { Route53Zone } from './route53-zone.js';

/**
 * A killed drill's record in a hosted zone it did not create: its A records and owner marker are
 * deleted while the marker names the run (Route53Zone.deleteOwned); a name without it, or marked
 * by another run, is not the run's and is left as it is. Credentials: the AWS chain of whoever runs
 * `drill cleanup`. Never throws: an unreachable API or a refusal leaves the entry for the next try.
 */
export async function reapRoute53Record(resource: Extract<Resource, { kind: 'route53-record' }>): Promise<ReapOutcome> {
  const what = `Route 53 record ${resource.name} in hosted zone ${resource.zoneId}${resource.endpoint ? ` at ${resource.endpoint}` : ''}`;
  const client = Route53Zone.externalClient(resource.endpoint, resource.region);
  try {
    const zone = Route53Zone.open(client, resource.zoneId, resource.zoneName, { retry: { attempts: 3, baseDelayMs: 250, maxDelayMs: 1_000 } });
    return (await zone.deleteOwned(resource.name, resource.runId)) ? removed(what) : ABSENT;
  } catch (error) {
    if ((error as { code?: string }).code === 'ROUTE53_NO_SUCH_ZONE') return ABSENT;
    return left(what, error instanceof Error ? error.message : String(error));
  } finally {
    client.destroy();
  }
}
