import { z } from 'zod';
import { duration, SPAN, WAIT } from './duration-schema.js';
import { restoresService } from './restores-service.js';
import { needs, needsWhen } from './target-needs.js';
import { manualFields } from './manual-schema.js';

/**
 * Network degradation between the application and its database (issue 12, first slice): a
 * Toxiproxy on loopback in the application's data path (`targets.network`), the faults it applies
 * as toxics, and the step that removes them. Toxiproxy works on TCP streams, not packets: see the
 * README's "Network faults" for what is and is not emulated.
 */

/**
 * The fault type that makes each kind of link degradation (src/workload/database-link.ts): how
 * remove-network-fault names what it removes.
 */
export const FAULT_OF_KIND = {
  latency: 'network-latency',
  bandwidth: 'network-bandwidth',
  reset: 'network-reset',
  timeout: 'network-timeout',
  loss: 'network-loss',
  partition: 'network-partition',
} as const;

export const networkTarget = z
  .strictObject({
    proxy: z
      .literal('toxiproxy')
      .default('toxiproxy')
      .meta({ description: 'toxiproxy: Toxiproxy (github.com/Shopify/toxiproxy, built by npm run setup into the drill cache), started per drill on loopback' }),
  })
  .meta({
    description:
      'Puts a network proxy between the application (the service\'s processes, the SQL canary and SQL probes) and its database, so network faults can degrade that link. ' +
      'Needs targets.postgres; not with targets.kubernetes or targets.regions (their processes reach the database by other paths)',
  });

export type NetworkSpec = z.output<typeof networkTarget>;

/**
 * Which link a network fault degrades: the application's to its database (targets.network's
 * proxy), or the primary's WAL stream to its replicas, which then stream through a proxy of their
 * own from the start (their primary_conninfo points at it).
 */
export const NETWORK_LINKS = ['application', 'replication'] as const;
export type NetworkLinkName = (typeof NETWORK_LINKS)[number];

const link = z
  .enum(NETWORK_LINKS)
  .default('application')
  .meta({
    description:
      'application (default): the link between the application and its database; replication: the link over which the replicas stream WAL from the primary ' +
      '(they are built streaming through a proxy of their own; needs targets.postgres.replicas and provider: native)',
  });

/** A broken replication link as the setting for a later fault (the failover), like pg-replication-lag. */
const holdFor = duration(WAIT)
  .optional()
  .meta({
    description:
      'link: replication only: the fault holds this long (the replicas fall behind; their lag is measured and journaled) before the next fault, ' +
      'and is then a precondition that does not set T_fault (the next fault, e.g. pg-primary-crash, does)',
  });

/** Every network fault may end by itself. */
const faultDuration = duration(WAIT)
  .optional()
  .meta({
    description:
      'The fault ends by itself this long after it took effect (a flapping link, a provider incident that clears): its toxic is removed then. Default: until remove-network-fault, or teardown',
  });

const networkLatency = z
  .strictObject({
    type: z.literal('network-latency'),
    latency: duration(SPAN).default(500).meta({ description: 'Added to every answer of the database, so to every round trip (e.g. 500ms)' }),
    jitter: duration(SPAN).default(0).meta({ description: 'Each answer\'s added delay varies by up to this much either way' }),
    duration: faultDuration,
    link,
    holdFor,
  })
  .meta({ description: 'The database link turns slow: every round trip between the application and its database takes `latency` (± `jitter`) longer; T_fault when the toxic was sent to the proxy' });

const networkBandwidth = z
  .strictObject({
    type: z.literal('network-bandwidth'),
    rate: z.number().int().min(1).meta({ description: 'The most the database\'s answers may carry, in KB/s' }),
    duration: faultDuration,
    link,
    holdFor,
  })
  .meta({ description: 'The database link is throttled: the database\'s answers reach the application at no more than `rate` KB/s' });

const networkReset = z
  .strictObject({ type: z.literal('network-reset'), duration: faultDuration, link, holdFor })
  .meta({ description: 'Every connection of the application to its database is reset (TCP RST) as soon as the application sends on it; new connections too, until the fault is removed' });

const networkTimeout = z
  .strictObject({ type: z.literal('network-timeout'), duration: faultDuration, link, holdFor })
  .meta({
    description:
      'The database link accepts connections but never answers: what the application sends is dropped, connections stay open and hang (a silent partition, a blackholed route)',
  });

/** With link: replication, a replica to stream through the proxy too. */
const onLink = <T extends z.core.$ZodType>(schema: T): T => needsWhen(needs(schema, 'postgres', 'network'), 'link', 'replication', 'replica');

/** Packet faults match the application link's listener (nftables); the replication link has no filter. */
const applicationLinkOnly = z
  .literal('application')
  .default('application')
  .meta({ description: 'application (the only one): packet faults drop the packets of the application\'s link to its database' });

const networkLoss = z
  .strictObject({
    type: z.literal('network-loss'),
    link: applicationLinkOnly,
    percent: z.number().int().min(1).max(100).meta({ description: 'The share of packets dropped, in percent (1-100), each packet drawn anew (nftables numgen random)' }),
    duration: faultDuration,
  })
  .meta({
    description:
      'Real packet loss on the database link: the kernel drops `percent` % of the loopback TCP packets to and from the link\'s listener (a drill-owned nftables table); ' +
      'TCP retransmits, so the application sees stalls and timeouts. Needs nftables (nft) and root',
  });

const networkPartition = z
  .strictObject({ type: z.literal('network-partition'), link: applicationLinkOnly, duration: faultDuration })
  .meta({
    description:
      'The application is cut off from its database: the kernel drops every loopback TCP packet to and from the link\'s listener (a drill-owned nftables table). ' +
      'The database stays up and reachable by everything not on the application\'s path (the harness, replication, canary via: direct). ' +
      'Moving the application to another database (switch-workload) leaves the partition behind. Needs nftables (nft) and root',
  });

// Packet faults act on the application's link only (their nftables rules match its listener).
export const networkFaults = [
  onLink(networkLatency),
  onLink(networkBandwidth),
  onLink(networkReset),
  onLink(networkTimeout),
  needs(networkLoss, 'postgres', 'network'),
  needs(networkPartition, 'postgres', 'network'),
] as const;

export const removeNetworkFaultStep = needs(
  z
    .strictObject({
      step: z.literal('remove-network-fault'),
      faults: z
        .array(z.enum(Object.values(FAULT_OF_KIND)))
        .min(1)
        .optional()
        .meta({ description: 'Only the network faults of these types are removed (default: every one): a fix that leaves part of the degradation in place' }),
      link: z
        .enum(NETWORK_LINKS)
        .default('application')
        .meta({
          description:
            'The link healed: application (default) or replication; for replication the postcondition includes every replica catching up ' +
            "(replaying up to the primary's WAL position read after the heal), and how far behind they were and how long they took is journaled",
        }),
      restoresService,
      timeout: duration(WAIT).default(60_000),
      ...manualFields,
      title: z.string().optional(),
    })
    .meta({
      description:
        'The network recovers: the network faults on the database link are removed (what the network team\'s fix does); postcondition: the proxy reports none of them left. ' +
        'Connections that broke or hung meanwhile are the application\'s to recover (service-restart recycles its pool)',
    }),
  'postgres',
  'network',
);

export const waitStep = needs(
  z
    .strictObject({
      step: z.literal('wait'),
      for: duration(WAIT).meta({ description: 'How long the runbook waits before its next step' }),
      restoresService,
      timeout: duration(WAIT).default(600_000),
      ...manualFields,
      title: z.string().optional(),
    })
    .meta({
      description:
        'The operator waits (for the network to recover, for clients to reconnect) before the next step; the fault stays in effect meanwhile. Fails only when the drill is aborted',
    }),
);
