import createDebug from 'debug';
import type { AppliedDegradation, DatabaseLink, DegradationKind, LinkDegradation, LinkTarget } from '../../workload/database-link.js';
import type { NftPacketFilter } from '../network-nft/packet-filter.js';
import type { ToxiproxyApi } from './toxiproxy-api.js';
import { kindOfToxic, toxicFor } from './toxics.js';

const debug = createDebug('drill:net');

/** Which link a proxy carries: the proxy's name, and which way its breaking toxics cut (toxics.ts). */
export type ProxiedLink = 'application' | 'replication';

const PROXY_OF: Record<ProxiedLink, string> = { application: 'database', replication: 'replication' };

/**
 * A link to a database through one Toxiproxy proxy: clients connect to its loopback listener, it
 * connects to an instance. The application's link (clients: the service, canary and probes; far
 * end: the router's current instance) or the replication link (clients: the replicas' WAL
 * receivers; far end: the primary). Stream degradations are toxics on it; packet faults (loss, partition) are nftables drops of the listener's loopback packets
 * (the `packets` filter, when the link was given one), which the proxy never sees.
 */
export class ToxiproxyLink implements DatabaseLink {
  private applied = 0;
  private upstream: string;
  /** Partition id → the far end it cut the application off. */
  private readonly partitioned = new Map<string, string>();
  private packets: NftPacketFilter | undefined;

  private constructor(
    private readonly api: ToxiproxyApi,
    readonly listen: { host: string; port: number },
    /** What the server's API reports, e.g. 2.12.0. */
    readonly version: string,
    instance: LinkTarget,
    readonly carries: ProxiedLink,
  ) {
    this.upstream = instance.name;
  }

  private get proxy(): string {
    return PROXY_OF[this.carries];
  }

  /** Packet faults act through `filter` (its tables hit this link's listener). */
  usePacketFilter(filter: NftPacketFilter): void {
    this.packets = filter;
  }

  get description(): string {
    return `Toxiproxy ${this.version} at ${this.listen.host}:${this.listen.port}`;
  }

  /** Creates the proxy in front of `instance`, listening on `host:port` (a loopback address; default 127.0.0.1). */
  static async create(api: ToxiproxyApi, instance: LinkTarget, port: number, carries: ProxiedLink = 'application', host = '127.0.0.1'): Promise<ToxiproxyLink> {
    const version = await api.version();
    const listen = { host, port };
    const proxy = await api.createProxy({ name: PROXY_OF[carries], listen: `${listen.host}:${port}`, upstream: upstreamOf(instance) });
    debug('proxy %s: %s → %s', proxy.name, proxy.listen, proxy.upstream);
    return new ToxiproxyLink(api, listen, version, instance, carries);
  }

  async follow(instance: LinkTarget): Promise<{ lifted: string[] }> {
    const proxy = await this.api.setUpstream(this.proxy, upstreamOf(instance));
    debug('proxy %s now → %s (%s)', this.proxy, proxy.upstream, instance.name);
    const lifted: string[] = [];
    if (instance.name !== this.upstream) {
      for (const [id, farEnd] of [...this.partitioned]) if (farEnd !== instance.name && (await this.heal(id))) lifted.push(id);
    }
    this.upstream = instance.name;
    return { lifted };
  }

  async degrade(degradation: LinkDegradation): Promise<AppliedDegradation> {
    if (degradation.kind === 'loss' || degradation.kind === 'partition') {
      if (!this.packets) throw new Error(`${degradation.kind} needs the link's packet filter (nftables); none was given`);
      const fault = degradation.kind === 'loss' ? { kind: 'loss' as const, percent: degradation.percent } : { kind: 'partition' as const };
      const applied = await this.packets.apply(fault, `network-${degradation.kind}`);
      if (degradation.kind === 'partition') this.partitioned.set(applied.id, this.upstream);
      return {
        id: applied.id,
        kind: degradation.kind,
        details: { nftTable: `inet ${applied.table}`, nftHandle: applied.handle, ports: applied.ports, ruleset: applied.ruleset, ...(degradation.kind === 'partition' ? { cutOff: this.upstream } : {}) },
      };
    }
    this.applied += 1;
    const toxic = await this.api.addToxic(this.proxy, toxicFor(`${degradation.kind}-${this.applied}`, degradation, this.carries));
    debug('toxic %s (%s, %s) on %s', toxic.name, toxic.type, toxic.stream, this.proxy);
    return { id: toxic.name, kind: degradation.kind, details: { proxy: this.proxy, toxic: toxic.name, type: toxic.type, stream: toxic.stream, attributes: toxic.attributes } };
  }

  heal(id: string): Promise<boolean> {
    if (this.packets?.owns(id)) {
      this.partitioned.delete(id);
      return this.packets.remove(id);
    }
    return this.api.removeToxic(this.proxy, id);
  }

  async degradations(): Promise<Array<{ id: string; kind: DegradationKind }>> {
    const proxy = await this.api.proxy(this.proxy);
    const toxics = (proxy?.toxics ?? []).flatMap((t) => {
      const kind = kindOfToxic(t);
      return kind ? [{ id: t.name, kind }] : [];
    });
    const packets = this.packets ? (await this.packets.inEffect()).map((p) => ({ id: p.id, kind: p.kind })) : [];
    return [...toxics, ...packets];
  }
}

function upstreamOf(instance: LinkTarget): string {
  return `${instance.connection.host}:${instance.connection.port}`;
}
