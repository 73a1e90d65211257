import createDebug from 'debug';
import type { AppliedDegradation, DatabaseLink, DegradationKind, LinkDegradation, LinkTarget } from '../../workload/database-link.js';
import type { ToxiproxyApi } from './toxiproxy-api.js';
import { kindOfToxic, toxicFor } from './toxics.js';

const debug = createDebug('drill:net');

const PROXY = 'database';

/**
 * The application's link to its database through one Toxiproxy proxy: clients connect to its
 * loopback listener, it connects to the router's current instance. Degradations are toxics on it.
 */
export class ToxiproxyLink implements DatabaseLink {
  private applied = 0;

  private constructor(
    private readonly api: ToxiproxyApi,
    readonly listen: { host: string; port: number },
    /** What the server's API reports, e.g. 2.12.0. */
    readonly version: string,
  ) {}

  get description(): string {
    return `Toxiproxy ${this.version} at ${this.listen.host}:${this.listen.port}`;
  }

  /** Creates the proxy in front of `instance`, listening on `127.0.0.1:port`. */
  static async create(api: ToxiproxyApi, instance: LinkTarget, port: number): Promise<ToxiproxyLink> {
    const version = await api.version();
    const listen = { host: '127.0.0.1', port };
    const proxy = await api.createProxy({ name: PROXY, listen: `${listen.host}:${port}`, upstream: upstreamOf(instance) });
    debug('proxy %s: %s → %s', proxy.name, proxy.listen, proxy.upstream);
    return new ToxiproxyLink(api, listen, version);
  }

  async follow(instance: LinkTarget): Promise<void> {
    const proxy = await this.api.setUpstream(PROXY, upstreamOf(instance));
    debug('proxy %s now → %s (%s)', PROXY, proxy.upstream, instance.name);
  }

  async degrade(degradation: LinkDegradation): Promise<AppliedDegradation> {
    this.applied += 1;
    const toxic = await this.api.addToxic(PROXY, toxicFor(`${degradation.kind}-${this.applied}`, degradation));
    debug('toxic %s (%s, %s) on %s', toxic.name, toxic.type, toxic.stream, PROXY);
    return { id: toxic.name, kind: degradation.kind, details: { proxy: PROXY, toxic: toxic.name, type: toxic.type, stream: toxic.stream, attributes: toxic.attributes } };
  }

  heal(id: string): Promise<boolean> {
    return this.api.removeToxic(PROXY, id);
  }

  async degradations(): Promise<Array<{ id: string; kind: DegradationKind }>> {
    const proxy = await this.api.proxy(PROXY);
    return (proxy?.toxics ?? []).flatMap((t) => {
      const kind = kindOfToxic(t);
      return kind ? [{ id: t.name, kind }] : [];
    });
  }
}

function upstreamOf(instance: LinkTarget): string {
  return `${instance.connection.host}:${instance.connection.port}`;
}
