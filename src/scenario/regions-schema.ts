import { z } from 'zod';
import { duration, WAIT } from './duration-schema.js';
import { restoresService } from './restores-service.js';
import { serviceLaunch, serviceProcessCounts } from './service-schema.js';
import { needs } from './target-needs.js';
import { manualFields } from './manual-schema.js';

/**
 * The region vocabulary (issue 9, first slice): two regions on one machine, the service name in a
 * Route 53 hosted zone served by the drill's own DNS server, the region-outage fault and the
 * dns-failover step (runbook "Option 3: DNS Failover (Multi-Region)", "Scenario 1: Complete Data
 * Center Outage").
 */

const regionName = z
  .string()
  .regex(/^[a-z][a-z0-9-]{1,30}$/, 'a region name like us-west-2 (lower case letters, digits, dashes)')
  .meta({ description: 'The region\'s name (free: us-west-2, us-east-1, ...); the service processes get it as REGION' });

const loopbackRange = z
  .string()
  .regex(/^127\.(25[0-5]|2[0-4]\d|1?\d?\d)\.(25[0-5]|2[0-4]\d|1?\d?\d)\.0\/24$/, 'a /24 of loopback, e.g. 127.0.1.0/24 (every address of a region is loopback)')
  .meta({ description: 'The region\'s loopback /24: every listener of the region binds an address of it (127.0.0.0/8 is loopback on Linux: no interface is added)' });

const region = (name: string, range: string) =>
  z.strictObject({ name: regionName.default(name), range: loopbackRange.default(range) }).prefault({});

/** Seconds, as Route 53 stores a TTL. */
export const recordTtl = z.number().int().min(0).max(172_800).meta({ description: 'The record\'s TTL in seconds (Route 53: 0 to 172800); clients cache the answer this long' });

/**
 * Route 53 failover routing (runbook Scenario 1's `--automatic-failover`): the service name is two
 * failover record sets, PRIMARY (the primary region) and SECONDARY (the DR region), each with an
 * HTTP health check of its region; the drill's DNS server runs those checks itself (moto does not)
 * and answers PRIMARY while its check is healthy, else SECONDARY. No UPSERT is needed to fail over.
 */
export const failoverRouting = z
  .strictObject({
    resourcePath: z.string().regex(/^\/[\x21-\x7e]*$/, 'an HTTP path starting with /, e.g. /health').default('/health').meta({ description: 'The health check\'s ResourcePath on each region\'s first API address' }),
    requestInterval: z
      .number()
      .int()
      .min(1)
      .max(30)
      .default(10)
      .meta({ description: 'Route 53 RequestInterval, seconds between two checks (Route 53 itself offers 10 or 30; the drill\'s own checker takes 1 to 30)' }),
    failureThreshold: z
      .number()
      .int()
      .min(1)
      .max(10)
      .default(3)
      .meta({ description: 'Route 53 FailureThreshold: consecutive failed checks before the endpoint is unhealthy, and consecutive successes before it is healthy again' }),
  })
  .meta({
    description:
      'Failover routing with health checks instead of one A record: PRIMARY (primary region) and SECONDARY (DR region) record sets created through the Route 53 API, each with an HTTP health check; ' +
      'the drill\'s DNS server runs the checks (Route 53 semantics: interval, failure threshold) and answers PRIMARY while it is healthy, else SECONDARY',
  });

export type FailoverRoutingSpec = z.output<typeof failoverRouting>;

/**
 * An existing hosted zone (real AWS, or any endpoint that speaks the Route 53 API): the drill
 * neither creates nor deletes the zone; it creates only its own record name under it, marked as
 * the run's (record-ownership.ts). Credentials come from the standard AWS chain (environment,
 * shared files), never from the scenario.
 */
export const route53Endpoint = z
  .strictObject({
    hostedZoneId: z
      .string()
      .regex(/^(\/hostedzone\/)?[A-Z0-9]{1,32}$/, 'a Route 53 hosted zone id like Z0123456789ABCDEFGHIJ')
      .transform((id) => id.replace(/^\/hostedzone\//, ''))
      .meta({ description: 'The id of a hosted zone that exists (named targets.regions.dns.zone); the drill never creates or deletes it' }),
    endpoint: z.url({ protocol: /^https?$/ }).optional().meta({ description: 'The Route 53 API endpoint; default: AWS. Credentials come from the AWS environment/credential chain, never from this file' }),
    region: z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d$/, 'an AWS region like us-east-1').default('us-east-1').meta({ description: 'The signing region of the Route 53 API (a global service: us-east-1)' }),
  })
  .meta({ description: 'Use an existing hosted zone instead of the embedded moto: the drill writes only its own record name (refused when it exists without the drill\'s TXT marker) and its marker, and deletes both at teardown and after kill -9 (drill cleanup)' });

export const regionsTarget = z
  .strictObject({
    primary: region('us-west-2', '127.0.1.0/24').meta({ description: 'The region the service name points at when the drill starts' }),
    dr: region('us-east-1', '127.0.2.0/24').meta({ description: 'The disaster-recovery region: its processes run and wait for traffic' }),
    service: z
      .strictObject({
        ...serviceLaunch,
        readyTimeout: serviceLaunch.readyTimeout.meta({ description: 'How long the processes may take to answer /health 200 at start' }),
        replicas: z.strictObject(serviceProcessCounts).prefault({}).meta({ description: 'Processes per mode in each region, each on its own address of the region\'s range' }),
      })
      .prefault({})
      .meta({ description: 'The built-in TrustStram service, in each region, against its own region\'s PostgreSQL (the DR region\'s is the streaming replica: reads only until it is promoted)' }),
    dns: z
      .strictObject({
        zone: z
          .string()
          .regex(/^([a-z0-9-]+\.)+[a-z]+\.?$/, 'a DNS zone name like truststream.drill.test')
          .default('truststream.drill.test')
          .meta({ description: 'The Route 53 hosted zone: the one the drill creates (and deletes at teardown) in the embedded moto, or the name of the existing zone given by route53.hostedZoneId' }),
        record: z.string().regex(/^[a-z0-9-]+$/, 'one DNS label, e.g. api').default('api').meta({ description: 'The service name\'s label in the zone: clients resolve <record>.<zone>' }),
        ttl: recordTtl.default(5),
        failover: failoverRouting.optional(),
        route53: route53Endpoint.optional(),
      })
      .refine((d) => !(d.route53 && d.failover), {
        message: 'failover routing is not available in an existing hosted zone (route53) yet: its health checks are account-wide objects the drill cannot mark; use the embedded moto zone (leave out route53) for failover routing',
        path: ['failover'],
      })
      .prefault({})
      .meta({ description: 'The service name: an A record in a Route 53 hosted zone (the embedded moto server, or an existing zone with route53), answered by the drill\'s own DNS server' }),
  })
  .refine((r) => r.primary.name !== r.dr.name, { message: 'the primary and DR regions need different names', path: ['dr', 'name'] })
  .refine((r) => r.primary.range !== r.dr.range, { message: 'each region needs its own loopback range', path: ['dr', 'range'] })
  .meta({
    description:
      'Two regions on this machine (primary and DR), each running the service as plain processes and its PostgreSQL on its own loopback range (the primary in the primary region, ' +
      'its streaming replica in the DR region); clients reach the service by name, resolved through the drill\'s DNS server from the Route 53 zone. ' +
      'Needs targets.postgres (native provider, replicas: 1); not with targets.service or targets.kubernetes',
  });

export type RegionsSpec = z.output<typeof regionsTarget>;

export const regionRef = z.string().meta({ description: 'primary, dr, or a region\'s name' });

export const regionOutageFault = needs(
  z
    .strictObject({
      type: z.literal('region-outage'),
      region: regionRef.default('primary'),
      mode: z
        .enum(['kill', 'blackhole'])
        .default('kill')
        .meta({
          description:
            'kill: every process of the region (service and PostgreSQL) SIGKILLed at once; blackhole: the same processes SIGSTOPped, so connections hang as behind a dead network (killed at teardown)',
        }),
      network: z
        .enum(['drop'])
        .optional()
        .meta({
          description:
            'drop: as well, a drill-owned nftables table (inet drill_<run>_<n>, root and the nftables package) drops the loopback TCP to and from each address:port the region listens on ' +
            '(its service processes, its PostgreSQL, any other socket its processes hold in its range), and nothing else: the regions\' ranges are shared with other drills. ' +
            'Clients\' connections then time out, as towards a dead network, instead of being refused (kill) or accepted by a frozen process (blackhole). ' +
            'Proven in effect (a connect to each listener times out) before the fault counts as injected; deleted at teardown, and by drill cleanup after a kill -9',
        }),
    })
    .meta({ description: 'Runbook "Scenario 1: Complete Data Center Outage": the region is lost, its PostgreSQL included; T_fault is the signal, confirmed once none of its API addresses answers' }),
  'regions',
);

export const regionPartitionFault = needs(
  z
    .strictObject({
      type: z.literal('region-partition'),
    })
    .meta({
      description:
        'The regions cannot reach each other, and both stay up: the DR replica streams from the primary region through an inter-region link owned by the drill (a Toxiproxy proxy on the DR range), ' +
        'which stops carrying anything either way without closing a connection (timeout toxics downstream and upstream): the WAL receiver hangs as on a dead network and the DR region falls behind. ' +
        'Clients keep working in the primary region (asynchronous replication: nothing fails). T_fault when the toxics were sent, confirmed by reading the proxy back; the lag is journaled once a second',
    }),
  'regions',
);

export const healRegionPartitionStep = needs(
  z
    .strictObject({
      step: z.literal('heal-region-partition'),
      timeout: duration(WAIT).default(60_000).meta({ description: 'How long the DR replica may take to catch up after the heal' }),
      ...regionStepFields(),
    })
    .meta({
      description:
        'The network between the regions recovers: the inter-region link carries traffic again (the partition\'s toxics removed, the proxy lists none); ' +
        'postcondition: the DR replica, if still a standby, replays up to the primary\'s WAL position read right after the heal (lag 0 against it); how far behind it was and how long it took is journaled',
    }),
  'regions',
);

export const dnsFailoverStep = needs(
  z
    .strictObject({
      step: z.literal('dns-failover'),
      to: regionRef.default('dr'),
      ttl: recordTtl.optional().meta({ description: 'The TTL of the new record (default: the record\'s TTL as it is)' }),
      restoresService,
      timeout: duration(WAIT).default(120_000),
      ...manualFields,
      title: z.string().optional(),
    })
    .meta({
      description:
        'Runbook "Option 3: DNS Failover (Multi-Region)": Route 53 UPSERT of the service record to the region\'s addresses, wait for the change to be INSYNC, ' +
        'then "verify DNS propagation": query the drill\'s DNS server until it answers the new addresses',
    }),
  'regions',
);

function regionStepFields() {
  return { restoresService, ...manualFields, title: z.string().optional() };
}

export const activateDrSiteStep = needs(
  z
    .strictObject({
      step: z.literal('activate-dr-site'),
      primaryRegion: regionRef.default('primary').meta({ description: 'The runbook\'s --primary-region: the region that was lost' }),
      drRegion: regionRef.default('dr').meta({ description: 'The runbook\'s --dr-region: the region that takes over' }),
      automaticFailover: z
        .boolean()
        .default(false)
        .meta({ description: 'The runbook\'s --automatic-failover: DNS moves by itself (failover routing, targets.regions.dns.failover): wait until the DNS server answers the DR region, no UPSERT' }),
      timeout: duration(WAIT).default(120_000),
      ...regionStepFields(),
    })
    .meta({
      description:
        'Runbook Scenario 1 "Activate disaster recovery site" (activate-dr-site.sh --primary-region --dr-region [--automatic-failover]): fence what is left of the primary region if it still answers, ' +
        'promote the DR region\'s replica, make it the application database (the DR service\'s connections take writes), wait until every DR API process is ready; with automaticFailover also until DNS answers the DR region',
    }),
  'regions',
);

export const verifyDrStep = needs(
  z
    .strictObject({
      step: z.literal('verify-dr'),
      drRegion: regionRef.default('dr'),
      requestTimeout: duration(WAIT).default(5_000).meta({ description: 'Each HTTP request of a check' }),
      workerWithin: duration(WAIT).default(10_000).meta({ description: 'Functional suite: the DR worker must have processed the journey\'s queue item within this' }),
      timeout: duration(WAIT).default(60_000),
      ...regionStepFields(),
    })
    .meta({
      description:
        'Runbook Scenario 1 "Verification Steps": DR site health (GET /health on every DR API process, by address), database connectivity (the DR database is out of recovery and commits a write), ' +
        'and the functional smoke suite against the DR environment (its processes by address, not by name)',
    }),
  'regions',
);

export const failbackStep = needs(
  z
    .strictObject({
      step: z.literal('failback'),
      primaryRegion: regionRef.default('primary').meta({ description: 'The region that was lost and is brought back as the primary' }),
      drRegion: regionRef.default('dr').meta({ description: 'The region serving now (its database promoted), which hands the service back' }),
      fenceDr: z
        .boolean()
        .default(true)
        .meta({
          description:
            'Stop writes on the DR side before the switch (its database made read-only, every transaction begun before that ended) and wait until the rebuilt primary has replayed all of it: RPO 0. ' +
            'false: switch back while the DR database still takes writes (a failback that does not wait: the negative control; acknowledged writes are lost)',
        }),
      catchUpTimeout: duration(WAIT).default(60_000).meta({ description: 'How long the rebuilt primary may take to replay up to the DR primary\'s position (after the base backup, and again after the fence)' }),
      ttl: recordTtl.optional().meta({ description: 'The TTL of the record moved back (default: the record\'s TTL as it is)' }),
      timeout: duration(WAIT).default(180_000),
      ...regionStepFields(),
    })
    .meta({
      description:
        'Failback (runbook "optional, for game days"): bring the lost primary region back (its database rebuilt by pg_basebackup from the DR primary as a streaming replica, caught up; its service processes restarted on its range against it), ' +
        'then a controlled switchover: fence writes on the DR side, wait until the rebuilt primary has replayed all of it, promote it, make it the application database and UPSERT the service record back to the primary region (dns-failover\'s Route 53 path). ' +
        'Postcondition: the primary region\'s database commits a write, every primary API process is ready and DNS answers the primary region\'s addresses. Needs region-outage mode kill (nothing of the lost region may still run) and simple routing',
    }),
  'regions',
);
