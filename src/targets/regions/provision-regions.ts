import path from 'node:path';
import createDebug from 'debug';
import { EnvironmentError } from '../../engine/errors.js';
import type { RegionsSpec } from '../../scenario/schema.js';
import { redactFilesUnder } from '../../report/redact-files.js';
import type { TargetEnvironment } from '../target-kind.js';
import type { ConnectionInfo, PgInstance } from '../postgres/types.js';
import { PlainService } from '../service/plain-service.js';
import { createServiceCredentials } from '../service/service-credentials.js';
import { CachingResolver, queryNow } from './caching-resolver.js';
import { DnsServer } from './dns-server.js';
import { MOTO_VERSION, MotoServer } from './moto-server.js';
import { commonFreePort, regionAddress, regionAddresses } from './region-layout.js';
import { RegionalService } from './regional-service.js';
import { absoluteName, Route53Zone } from './route53-zone.js';
import { createFailoverRouting } from './failover-routing.js';
import { FailoverZone } from './failover-answers.js';
import { Route53Failover } from './route53-failover.js';
import { findRegion, type Region, type RegionSet } from './types.js';

const debug = createDebug('drill:regions');

/** Each region's PostgreSQL, already placed on its range by targets.postgres (database-placement.ts). */
export interface RegionDatabases {
  primary: PgInstance;
  dr: PgInstance;
  /** The application database now (the router's): the API token is created there, and revoked where it is at teardown. */
  application: () => ConnectionInfo;
}

/**
 * Stands up two regions on this machine: the embedded Route 53 API (moto) with a hosted zone of
 * the drill's, the drill's DNS server answering from it, and the service's processes in each
 * region on the region's loopback range, each against its own region's PostgreSQL: the primary
 * region's against the primary, the DR region's against the streaming replica (a warm standby
 * service: /health and reads answer, writes are refused by PostgreSQL until the replica is
 * promoted; the same connections then take writes, no restart). The service record points at the
 * primary region's API addresses. Each piece's undo is pushed before it exists.
 */
export async function provisionRegions(spec: RegionsSpec, env: TargetEnvironment, databases: RegionDatabases): Promise<{ regions: RegionSet; service: RegionalService }> {
  const { recorder, teardown } = env;
  const replicas = { ...spec.service.replicas, reader: 0 };
  const serviceName = absoluteName(`${spec.dns.record}.${spec.dns.zone}`);

  let moto: MotoServer | undefined;
  teardown.push('stop the embedded Route 53 API (moto)', async () => moto?.stop());
  moto = await MotoServer.start({ ledger: env.ledger, runId: env.runId, signal: env.signal, register: (m) => (moto = m) });
  recorder.journal.components.moto = MOTO_VERSION;
  const client = Route53Zone.client(moto.endpoint);
  teardown.push('close the Route 53 client', () => client.destroy());
  const zone = await Route53Zone.create(client, spec.dns.zone, env.runId);
  teardown.push(`delete hosted zone ${zone.name}`, async () => zone.delete([serviceName]));

  const failoverApi = new Route53Failover(client, zone.id);
  const answers = new FailoverZone(zone, failoverApi, (t) =>
    recorder.event('health-check', `health check of ${t.endpoint}: ${t.healthy ? 'healthy' : 'unhealthy'} after ${t.consecutive} consecutive ${t.healthy ? 'successes' : 'failures'} (last: ${t.last})`, { ...t }),
    env.clock.now,
  );
  teardown.push("stop the drill's health checkers", async () => answers.stop());
  // Nothing to undo if it fails to start: the socket that could not bind is closed with it.
  const dns = await DnsServer.start(answers);
  teardown.push("stop the drill's DNS server", async () => dns.stop());

  const drillDatabase = (instance: PgInstance) => ({ ...instance.connection, database: 'drill' });
  // Created on the primary (the application database at the start): it reaches the DR region's database by replication.
  const { tokenName, token } = await createServiceCredentials({ runId: env.runId, database: databases.application, reader: false, recorder, teardown });
  const port = await commonFreePort([...regionAddresses(spec.primary.range, replicas), ...regionAddresses(spec.dr.range, replicas)]);
  const started: Array<{ name: string; role: 'primary' | 'dr'; range: string; service: PlainService }> = [];
  const logRoot = env.runDir ? path.join(env.runDir, 'service-logs') : undefined;
  await Promise.all(
    (['primary', 'dr'] as const).map(async (role) => {
      const { name, range } = spec[role];
      let service: PlainService | undefined;
      const logDir = logRoot ? path.join(logRoot, name) : undefined;
      teardown.push(`stop the service processes of ${name}`, async () => {
        await service?.stop();
        if (logDir) redactFilesUnder(logDir, recorder.secrets);
      });
      service = await PlainService.start(
        {
          runId: env.runId,
          ledger: env.ledger,
          version: spec.service.version,
          replicas,
          database: drillDatabase(databases[role]),
          token,
          tokenName,
          readyTimeoutMs: spec.service.readyTimeout,
          region: name,
          address: async (mode, index) => ({ host: regionAddress(range, mode, index), port }),
          ...(logDir ? { logDir } : {}),
          signal: env.signal,
        },
        (s) => (service = s),
      );
      started.push({ name, role, range, service });
    }),
  );
  const region = (role: 'primary' | 'dr'): Region => {
    const r = started.find((s) => s.role === role)!;
    return { name: r.name, role, range: r.range, apiAddresses: Array.from({ length: replicas.api }, (_, i) => regionAddress(r.range, 'api', i + 1)), processes: r.service, database: databases[role] };
  };
  const regions = { primary: region('primary'), dr: region('dr') };

  const failover = spec.dns.failover;
  if (failover) {
    await createFailoverRouting(failoverApi, { serviceName, port, ttl: spec.dns.ttl, routing: failover, runId: env.runId, regions, teardown });
    // The checkers start now, not at the first client's query: their history begins with the drill.
    await answers.readA(serviceName);
  } else {
    const changeId = await zone.upsertA({ name: serviceName, values: [...regions.primary.apiAddresses], ttl: spec.dns.ttl }, `drill ${env.runId}: ${serviceName} to ${regions.primary.name}`);
    await zone.waitInsync(changeId, 30_000, env.signal);
  }
  const answer = await queryNow(dns.address, serviceName);
  if (answer.addresses.join(',') !== [...regions.primary.apiAddresses].sort().join(',')) {
    throw new EnvironmentError('DNS_ANSWER_WRONG', `the drill's DNS server answers ${serviceName} with ${answer.addresses.join(', ')}, not the primary region's ${regions.primary.apiAddresses.join(', ')}`);
  }
  const resolver = new CachingResolver(dns.address);
  teardown.push('close the clients\' resolver', () => resolver.cancel());

  const ordered = (['primary', 'dr'] as const).map((role) => started.find((s) => s.role === role)!);
  const service = new RegionalService(ordered, resolver, serviceName, port, token, tokenName);
  recorder.journal.components.truststream = spec.service.version;
  const routing = failover
    ? `failover routing: PRIMARY ${regions.primary.apiAddresses.join(', ')}, SECONDARY ${regions.dr.apiAddresses.join(', ')}, HTTP health checks of ${failover.resourcePath} every ${failover.requestInterval} s, threshold ${failover.failureThreshold}, run by the drill`
    : `A ${regions.primary.apiAddresses.join(', ')}`;
  recorder.event('regions', `${service.description}; Route 53 (moto ${MOTO_VERSION} at ${moto.endpoint}) zone ${zone.name} (${zone.id}): ${serviceName} ${routing} TTL ${spec.dns.ttl} s; DNS server ${dns.address} (udp, tcp)`, {
    serviceName,
    port,
    ttl: spec.dns.ttl,
    ...(failover ? { failover } : {}),
    zone: { id: zone.id, name: zone.name },
    dnsServer: dns.address,
    regions: ordered.map((r) => ({
      name: r.name,
      role: r.role,
      range: r.range,
      instances: r.service.instances(),
      database: { name: databases[r.role].name, host: databases[r.role].connection.host, port: databases[r.role].connection.port },
    })),
  });
  debug('regions ready: %s', service.description);
  const set: RegionSet = {
    ...regions,
    serviceName,
    port,
    zone,
    dnsServer: dns.address,
    routing: failover ? 'failover' : 'simple',
    healthTransitions: () => [...answers.transitions],
    find: (ref) => findRegion(regions, ref),
  };
  return { regions: set, service };
}
