import createDebug from 'debug';
import type { AppliedDegradation, DatabaseLink, DegradationKind, LinkDegradation, LinkTarget } from '../../workload/database-link.js';
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
 * receivers; far end: the primary). Degradations are toxics on it.
 */
export class ToxiproxyLink implements DatabaseLink {
  private applied = 0;

  private constructor(
    private readonly api: ToxiproxyApi,
    readonly listen: { host: string; port: number },
    /** What the server's API reports, e.g. 2.12.0. */
    readonly version: string,
    readonly carries: ProxiedLink,
  ) {}

  private get proxy(): string {
    return PROXY_OF[this.carries];
  }

  get description(): string {
    return `Toxiproxy ${this.version} at ${this.listen.host}:${this.listen.port}`;
  }

  /** Creates the proxy in front of `instance`, listening on `127.0.0.1:port`. */
  static async create(api: ToxiproxyApi, instance: LinkTarget, port: number, carries: ProxiedLink = 'application'): Promise<ToxiproxyLink> {
    const version = await api.version();
    const listen = { host: '127.0.0.1', port };
    const proxy = await api.createProxy({ name: PROXY_OF[carries], listen: `${listen.host}:${port}`, upstream: upstreamOf(instance) });
    debug('proxy %s: %s → %s', proxy.name, proxy.listen, proxy.upstream);
    return new ToxiproxyLink(api, listen, version, carries);
  }

  async follow(instance: LinkTarget): Promise<void> {
    const proxy = await this.api.setUpstream(this.proxy, upstreamOf(instance));
    debug('proxy %s now → %s (%s)', this.proxy, proxy.upstream, instance.name);
  }

  async degrade(degradation: LinkDegradation): Promise<AppliedDegradation> {
    this.applied += 1;
    const toxic = await this.api.addToxic(this.proxy, toxicFor(`${degradation.kind}-${this.applied}`, degradation, this.carries));
    debug('toxic %s (%s, %s) on %s', toxic.name, toxic.type, toxic.stream, this.proxy);
    return { id: toxic.name, kind: degradation.kind, details: { proxy: this.proxy, toxic: toxic.name, type: toxic.type, stream: toxic.stream, attributes: toxic.attributes } };
  }

  heal(id: string): Promise<boolean> {
    return this.api.removeToxic(this.proxy, id);
  }

  async degradations(): Promise<Array<{ id: string; kind: DegradationKind }>> {
    const proxy = await this.api.proxy(this.proxy);
    return (proxy?.toxics ?? []).flatMap((t) => {
      const kind = kindOfToxic(t);
      return kind ? [{ id: t.name, kind }] : [];
    });
  }
}

function upstreamOf(instance: LinkTarget): string {
  return `${instance.connection.host}:${instance.connection.port}`;
}
