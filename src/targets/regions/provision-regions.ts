import path from 'node:path';
import type { Route53Client } from '@aws-sdk/client-route-53';
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

/**
 * The hosted zone the service name lives in, with its undo pushed before it exists. Embedded (no
 * `dns.route53`): a moto server of the drill's and a zone it creates and deletes. Existing
 * (`dns.route53`): a zone the drill never creates or deletes, on AWS or the endpoint given, with
 * the AWS chain's credentials (registered as secrets: never in an artifact); only the service
 * name is the drill's, recorded in the ledger before its owner marker is written, claimed before
 * anything of the regions starts (a name with records and no marker of this run: exit 2), and
 * deleted (records and marker, only while the marker is the run's) at teardown or by the reaper.
 */
async function openZone(spec: RegionsSpec, env: TargetEnvironment, serviceName: string): Promise<{ client: Route53Client; zone: Route53Zone; api: string }> {
  const { recorder, teardown } = env;
  const existing = spec.dns.route53;
  if (existing) {
    for (const variable of ['AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN', 'AWS_ACCESS_KEY_ID']) recorder.secrets.register(process.env[variable], `the AWS credential ${variable}`);
    const client = Route53Zone.externalClient(existing.endpoint, existing.region);
    teardown.push('close the Route 53 client', () => client.destroy());
    const zone = await Route53Zone.openExisting(client, existing.hostedZoneId, spec.dns.zone, { ownerRun: env.runId });
    env.ledger.record({ kind: 'route53-record', ...(existing.endpoint ? { endpoint: existing.endpoint } : {}), region: existing.region, zoneId: zone.id, zoneName: zone.name, name: serviceName, runId: env.runId });
    teardown.push(`delete ${serviceName} and its drill marker from hosted zone ${zone.name} (${zone.id})`, async () => {
      await zone.deleteOwned(serviceName, env.runId);
    });
    await zone.claim(serviceName, env.signal);
    return { client, zone, api: `existing hosted zone at ${existing.endpoint ?? 'AWS'}, only ${serviceName} and its marker are the drill's` };
  }
  let moto: MotoServer | undefined;
  teardown.push('stop the embedded Route 53 API (moto)', async () => moto?.stop());
  moto = await MotoServer.start({ ledger: env.ledger, runId: env.runId, signal: env.signal, register: (m) => (moto = m) });
  recorder.journal.components.moto = MOTO_VERSION;
  const client = Route53Zone.client(moto.endpoint);
  teardown.push('close the Route 53 client', () => client.destroy());
  const zone = await Route53Zone.create(client, spec.dns.zone, env.runId);
  teardown.push(`delete hosted zone ${zone.name}`, async () => zone.delete([serviceName]));
  return { client, zone, api: `moto ${MOTO_VERSION} at ${moto.endpoint}` };
}

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

  const { client, zone, api } = await openZone(spec, env, serviceName);
  const failoverApi = new Route53Failover(client, zone.id);
  const answers = new FailoverZone(zone, failoverApi, (t) =>
    recorder.event('health-check', `health check of ${t.endpoint}: ${t.healthy ? 'healthy' : 'unhealthy'} after ${t.consecutive} consecutive ${t.healthy ? 'successes' : 'failures'} (last: ${t.last})`, { ...t }),
    env.clock.now,
  );
  teardown.push("stop the drill's health checkers", async () => answers.stop());
  // The DNS server answers from a short-lived cache (API rate limits): the drill's own changes re-read at once.
  zone.onChange(() => answers.invalidate());
  failoverApi.onChange(() => answers.invalidate());
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
  // Again, so that it runs before the services stop (teardown is last-in, first-out): checks running
  // on would see the harness's own stop and journal the DR region as unhealthy (seen under CI load,
  // when the teardown between the services' stop and the checkers' took seconds). stop() is idempotent.
  teardown.push("stop the drill's health checkers before the services", async () => answers.stop());
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
  recorder.event('regions', `${service.description}; Route 53 (${api}) zone ${zone.name} (${zone.id}): ${serviceName} ${routing} TTL ${spec.dns.ttl} s; DNS server ${dns.address} (udp, tcp)`, {
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
