import type { PgInstance } from '../postgres/types.js';
import type { TimedTransition } from './failover-answers.js';
import type { ARecord } from './route53-zone.js';

/** A region's part of the service: what the region-outage fault acts on. */
export interface RegionProcesses {
  /**
   * The processes that have not exited: the only pids that may be signalled (an exited one's pid
   * may already be another process's).
   */
  liveInstances(): Array<{ name: string; pid: number }>;
  /** Each process and the URL it serves on (its address and port in the region's range). */
  instances(): Array<{ name: string; url: string }>;
  /** SIGKILL of every process of the region; returns what was killed once each has exited. */
  kill(): Promise<Array<{ name: string; pid: number }>>;
  /**
   * A new launch of every process on the region's own addresses (a lost region brought back, once
   * none of its old processes runs), each answering /health 200 before this returns.
   */
  restart(options: { signal?: AbortSignal }): Promise<Record<string, unknown>>;
}

export interface Region {
  readonly name: string;
  readonly role: 'primary' | 'dr';
  /** Its loopback /24. */
  readonly range: string;
  /** The addresses its API processes listen on: what the service record points at when it serves. */
  readonly apiAddresses: readonly string[];
  readonly processes: RegionProcesses;
  /**
   * The region's PostgreSQL: the primary in the primary region, the streaming replica in the DR
   * region (the instance its service processes connect to). A region outage takes it down with
   * the service; `promote-replica` with `region:` promotes it; `dns-failover` makes it the
   * application database.
   */
  readonly database: PgInstance;
}

/** The Route 53 side of the drill: what the dns-failover step changes and waits for. */
export interface HostedZone {
  readonly id: string;
  upsertA(record: ARecord, comment: string, signal?: AbortSignal): Promise<string>;
  waitInsync(changeId: string, timeoutMs: number, signal?: AbortSignal): Promise<void>;
  readA(name: string): Promise<ARecord | undefined>;
}

/**
 * The regions of a drill (`ctx.regions`): the two regions, the service name, the hosted zone it is
 * in, and the drill's DNS server that answers it.
 */
export interface RegionSet {
  readonly primary: Region;
  readonly dr: Region;
  /** The service's name, absolute (`api.truststream.drill.test.`). */
  readonly serviceName: string;
  /** The port clients use at whatever address the name resolves to. */
  readonly port: number;
  readonly zone: HostedZone;
  /** The drill's DNS server, `host:port` (UDP and TCP on the same port). */
  readonly dnsServer: string;
  /** `simple`: one A record, moved by an UPSERT; `failover`: PRIMARY/SECONDARY record sets flipped by the drill's health checks. */
  readonly routing: 'simple' | 'failover';
  /** The health checks' status changes so far (failover routing), oldest first, `t` on the run clock. */
  healthTransitions(): TimedTransition[];
  /** `primary`, `dr`, or a region's name; undefined when none matches. */
  find(ref: string): Region | undefined;
}

export function findRegion(regions: { primary: Region; dr: Region }, ref: string): Region | undefined {
  if (ref === 'primary') return regions.primary;
  if (ref === 'dr') return regions.dr;
  return [regions.primary, regions.dr].find((r) => r.name === ref);
}
