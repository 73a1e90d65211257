import { Resolver } from 'node:dns/promises';
import createDebug from 'debug';

const debug = createDebug('drill:dns');

/** One answer as a client holds it. */
export interface ResolvedAnswer {
  addresses: string[];
  /** The record's TTL as the server gave it, seconds. */
  ttl: number;
  /** When it was received (ms, the resolver's clock). */
  at: number;
  /** Until when it is served from the cache (ms). */
  expiresAt: number;
}

/**
 * A client's stub resolver: real DNS queries (UDP, through Node's resolver) to the drill's DNS
 * server only, and a cache that keeps each answer for its TTL, as an operating system's or a
 * runtime's cache does. A stale answer after a failover is what clients see in production, so it
 * is part of the measured RTO. A failed lookup is not cached: the next request asks again.
 */
export class CachingResolver {
  private readonly resolver: Resolver;
  private readonly cache = new Map<string, ResolvedAnswer>();
  private readonly inflight = new Map<string, Promise<ResolvedAnswer>>();

  constructor(
    server: string,
    private readonly now: () => number = () => performance.now(),
  ) {
    // Two tries: a query lost on a loaded machine is retried before the request fails (the
    // request's own timeout bounds the whole).
    this.resolver = new Resolver({ timeout: 1000, tries: 2 });
    this.resolver.setServers([server]);
  }

  /** The name's addresses: from the cache while the TTL lasts, else a fresh query. */
  async resolve(name: string): Promise<ResolvedAnswer> {
    const cached = this.cache.get(name);
    if (cached && this.now() < cached.expiresAt) return cached;
    const pending = this.inflight.get(name);
    if (pending) return pending;
    const query = lookup(this.resolver, name, this.now)
      .then((answer) => {
        this.cache.set(name, answer);
        debug('%s -> %s (ttl %d s)', name, answer.addresses.join(','), answer.ttl);
        return answer;
      })
      .finally(() => this.inflight.delete(name));
    this.inflight.set(name, query);
    return query;
  }

  cancel(): void {
    this.resolver.cancel();
  }
}

/**
 * One query straight to `server`, on a resolver of its own (no cache of any client in the way):
 * what `dig @server name +short` shows, for verifying what the server answers now.
 */
export async function queryNow(server: string, name: string, now: () => number = () => performance.now()): Promise<ResolvedAnswer> {
  const resolver = new Resolver({ timeout: 1000, tries: 2 });
  resolver.setServers([server]);
  return lookup(resolver, name, now);
}

async function lookup(resolver: Resolver, name: string, now: () => number): Promise<ResolvedAnswer> {
  const records = await resolver.resolve4(name, { ttl: true });
  const at = now();
  // The values of one record set share its TTL.
  const ttl = Math.min(...records.map((r) => r.ttl));
  return { addresses: records.map((r) => r.address).sort(), ttl, at, expiresAt: at + ttl * 1000 };
}
