import { InputError } from '../../engine/errors.js';
import type { TargetKind } from '../target-kind.js';
import { targetMissing } from '../target-parts.js';

/** `targets.regions`: two regions on this machine, the service in each, reached by name through Route 53 and the drill's DNS server. */
export const regionsKind: TargetKind<'regions'> = {
  // Each region's service runs against its region's PostgreSQL: targets.postgres placed the primary
  // and its replica on the regions' ranges (the loader requires it, with replicas: 1).
  after: ['postgres'],
  provides: ['regions', 'service'],
  // moto's and each launch's temp dir, moto and every service process; a region-outage's
  // nftables table (network: drop) on the regions' listeners.
  records: ['temp-dir', 'process', 'nft-table'],
  async provision(spec, env, provided) {
    const pg = provided.pg;
    if (!pg) throw targetMissing('pg', "targets.regions, whose regions each run PostgreSQL");
    const replica = pg.replicas[0];
    if (!replica) throw new InputError('REGIONS_NEED_REPLICA', 'targets.regions puts a streaming replica in the DR region: set targets.postgres.replicas: 1');
    const router = provided.router;
    if (!router) throw targetMissing('router', "targets.regions, whose regions each run PostgreSQL");
    // Imported here: only a region drill loads the AWS SDK.
    const { provisionRegions } = await import('./provision-regions.js');
    return provisionRegions(spec, env, { primary: pg.primary, dr: replica, application: () => router.connection });
  },
};
