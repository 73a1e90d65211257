import type { TargetKind } from '../target-kind.js';
import { targetMissing } from '../target-parts.js';
import { provisionRegions } from './provision-regions.js';

/** `targets.regions`: two regions on this machine, the service in each, reached by name through Route 53 and the drill's DNS server. */
export const regionsKind: TargetKind<'regions'> = {
  // The service in both regions runs against the drill's PostgreSQL (the loader requires targets.postgres).
  after: ['postgres'],
  provides: ['regions', 'service'],
  // moto's and each launch's temp dir, moto and every service process.
  records: ['temp-dir', 'process'],
  async provision(spec, env, provided) {
    const router = provided.router;
    if (!router) throw targetMissing('router', "targets.regions, whose service runs against the drill's PostgreSQL");
    return provisionRegions(spec, env, () => router.connection);
  },
};
