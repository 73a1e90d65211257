import createDebug from 'debug';
import type { DrillContext, FaultHandle } from '../engine/drill-context.js';
import { EnvironmentError, InputError } from '../engine/errors.js';
import type { Fault } from '../scenario/schema.js';
import type { AppliedDegradation, DatabaseLink } from '../workload/database-link.js';
import { ReplicationLagWatch } from './replication-lag-watch.js';

const debug = createDebug('drill:inject');

type RegionPartition = Extract<Fault, { type: 'region-partition' }>;

/**
 * The regions cannot reach each other, and both stay up. The drill cannot drop packets between two
 * loopback ranges (every other drill on the machine shares them), so the partition acts where the
 * regions meet: the inter-region link, a drill-owned Toxiproxy proxy on the DR range that the DR
 * replica's WAL stream crosses (made before the replica, src/targets/network-proxy/replication-link.ts).
 *
 * The link goes dead without closing anything: a `timeout` toxic (timeout 0) on each direction,
 * downstream first (the primary's WAL vanishes: what cuts replication), then upstream (the
 * replica's status messages vanish too, so the primary sees nothing either, as on a dead network).
 * The WAL receiver hangs on an open connection; nothing is refused. (Removing the toxics closes
 * the connections they held, Toxiproxy's cleanup: at the heal the receiver reconnects.) T_fault is the instant the
 * downstream toxic was sent (it cannot act earlier, and acts on open connections as the proxy
 * takes it); both are confirmed by reading the proxy back (`confirmedAt`). The DR replica's lag
 * is read and journaled once a second while the partition lasts (ReplicationLagWatch). The
 * handle removes the toxics at teardown unless heal-region-partition did.
 */
export async function injectRegionPartition(ctx: DrillContext, _fault: RegionPartition): Promise<FaultHandle> {
  const regions = ctx.regions;
  const link = ctx.pg.replicationLink;
  // The engine builds the DR replica through the link whenever the scenario has this fault.
  if (!link) throw new InputError('REGION_LINK_MISSING', 'region-partition cuts the inter-region link the DR replica streams over, and PostgreSQL was built without one: set targets.postgres.replicas: 1 and targets.regions');
  const sentAt = ctx.clock.now();
  const applied: AppliedDegradation[] = [];
  try {
    applied.push(await link.degrade({ kind: 'timeout', stream: 'downstream' }));
    applied.push(await link.degrade({ kind: 'timeout', stream: 'upstream' }));
  } catch (error) {
    await healAll(link, applied);
    throw error;
  }
  const ids = applied.map((a) => a.id);
  const listed = (await link.degradations()).map((d) => d.id);
  const confirmedAt = ctx.clock.now();
  const missing = ids.filter((id) => !listed.includes(id));
  if (missing.length > 0) {
    await healAll(link, applied);
    throw new EnvironmentError('TOXIC_NOT_APPLIED', `${link.description} took ${missing.join(', ')} but does not list ${missing.length === 1 ? 'it' : 'them'}; check what else drives its API`);
  }
  debug('region partition %s | %s on %s', regions.primary.name, regions.dr.name, link.description);
  const watch = ReplicationLagWatch.start(ctx, async () => (await link.degradations()).some((d) => ids.includes(d.id)));
  return {
    description:
      `region partition between ${regions.primary.name} and ${regions.dr.name}: the inter-region link (${link.description}) carries nothing either way, ` +
      `connections left hanging; both regions stay up, ${regions.dr.name}'s replica falls behind`,
    details: {
      primaryRegion: regions.primary.name,
      drRegion: regions.dr.name,
      link: link.description,
      listen: `${link.listen.host}:${link.listen.port}`,
      toxics: applied.map((a) => a.details),
      confirmedAt,
    },
    inEffectAt: sentAt,
    async [Symbol.asyncDispose]() {
      await watch.stop();
      // false for each: heal-region-partition removed it already.
      await healAll(link, applied);
    },
  };
}

async function healAll(link: DatabaseLink, applied: AppliedDegradation[]): Promise<void> {
  for (const a of applied) await link.heal(a.id);
}
