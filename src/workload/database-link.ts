import type { PgInstance } from '../targets/postgres/types.js';

/** What a link needs of the instance at its far end. */
export type LinkTarget = Pick<PgInstance, 'name' | 'connection'>;

/** A degradation of the link, as a network proxy applies it (src/targets/network-proxy/). */
export type LinkDegradation =
  | { kind: 'latency'; latencyMs: number; jitterMs: number }
  | { kind: 'bandwidth'; kilobytesPerSecond: number }
  | { kind: 'reset' }
  // `stream`: which way the data vanishes; default the way the link's waiting side is cut
  // (toxics.ts). A region partition cuts both ways with two of them.
  | { kind: 'timeout'; stream?: 'upstream' | 'downstream' }
  // Packet faults (nftables on the link's loopback listener, src/targets/network-nft): real kernel drops.
  | { kind: 'loss'; percent: number }
  | { kind: 'partition' };

export type DegradationKind = LinkDegradation['kind'];

/** What the link reports of a degradation it applied: its handle for removal, and what the proxy says is in effect. */
export interface AppliedDegradation {
  readonly id: string;
  readonly kind: DegradationKind;
  readonly details: Record<string, unknown>;
}

/**
 * The network path between the application (the service, the canary writer, SQL probes) and its
 * database, when the scenario puts one in between (`targets.network`): a capability of the
 * DatabaseRouter, so a network fault asks the router for its link instead of testing for a proxy.
 */
export interface DatabaseLink {
  /** What it is, for the journal: e.g. "Toxiproxy 2.12.0 at 127.0.0.1:40123". */
  readonly description: string;
  /** Where the application connects instead of the instance (loopback). */
  readonly listen: { host: string; port: number };
  /**
   * Re-points the link's far end at another instance (switch-workload), before clients move. A
   * partition cuts the application off the instance the link led to: the new path does not cross
   * it, so the partitions of the old far end are lifted (their ids returned).
   */
  follow(instance: LinkTarget): Promise<{ lifted: string[] }>;
  /** Puts a degradation on the link; in effect for new and open connections once this returns. */
  degrade(degradation: LinkDegradation): Promise<AppliedDegradation>;
  /** Removes one degradation; false when it was not there (already healed). */
  heal(id: string): Promise<boolean>;
  /** The degradations in effect now, as the proxy reports them. */
  degradations(): Promise<Array<{ id: string; kind: DegradationKind }>>;
}
