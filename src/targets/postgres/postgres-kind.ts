import { DatabaseRouter } from '../../workload/database-router.js';
import { GUARD_CIDR } from '../network/layout.js';
import { databasePlacement } from '../regions/database-placement.js';
import { regionLinkAddress } from '../regions/region-layout.js';
import type { TargetKind } from '../target-kind.js';
import { provisionPostgres } from './provision-postgres.js';

/**
 * `targets.postgres`: the drill's PostgreSQL with its data set (native, testcontainers, external),
 * and the application database the workload uses, which recovery can move to another instance.
 */
export const postgresKind: TargetKind<'postgres'> = {
  after: [],
  provides: ['pg', 'router'],
  // Native: its workspace, each data directory, the WAL and data volumes (walVolume, dataVolume) and drillfs
  // (dataPassthrough); testcontainers: its container; the replication link's Toxiproxy server (process
  // and temp dir) when a fault degrades that link.
  records: ['temp-dir', 'pg-data-dir', 'mount', 'fuse-mount', 'docker-container', 'process'],
  async provision(spec, env) {
    const pg = await provisionPostgres(spec, {
      runId: env.runId,
      clock: env.clock,
      ledger: env.ledger,
      teardown: env.teardown,
      recorder: env.recorder,
      signal: env.signal,
      ...(env.replicationLink ? { replicationLink: true } : {}),
      // With regions the replication link is the inter-region link (region-partition): its DR end.
      ...(env.replicationLink && env.targets?.regions ? { replicationLinkHost: regionLinkAddress(env.targets.regions.dr.range) } : {}),
      // Pods in the drill network reach it at the network's host address, from the network's addresses only.
      ...(env.appHost ? { hostAddress: { address: env.appHost, clients: GUARD_CIDR } } : {}),
      // With regions, the primary and its replica each live in their region (its loopback range).
      ...(env.targets?.regions ? { placement: databasePlacement(env.targets.regions) } : {}),
    });
    return { pg, router: new DatabaseRouter(pg.primary) };
  },
};
