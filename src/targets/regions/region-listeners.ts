import net from 'node:net';
import type { ListeningSocket } from '../process/listening-sockets.js';
import type { Region } from './types.js';

/** One address:port of a region, and what listens there. */
export interface RegionListener {
  address: string;
  port: number;
  what: string;
}

/** Whether `address` is in `range` (a loopback /24, `127.a.b.0/24`). */
export function inRegionRange(address: string, range: string): boolean {
  const network = (a: string) => a.split('.').slice(0, 3).join('.');
  return net.isIPv4(address) && network(address) === network(range.split('/')[0]!);
}

/**
 * Every address:port a region listens on: what the drill configured (each service process's URL,
 * its PostgreSQL's host and port) and what the kernel says its processes hold (`sockets`, read
 * before the outage: anything else they bind). Only pairs inside the region's own range are the
 * region's; a socket elsewhere (a wildcard 0.0.0.0, another range) is returned apart, never
 * dropped: matching it would hit other drills' traffic.
 */
export function regionListeners(region: Region, sockets: readonly ListeningSocket[], names: ReadonlyMap<number, string>): { listeners: RegionListener[]; outside: RegionListener[] } {
  const all: RegionListener[] = [
    ...region.processes.instances().map(({ name, url }) => {
      const u = new URL(url);
      return { address: u.hostname, port: Number(u.port), what: name };
    }),
    { address: region.database.connection.host, port: region.database.connection.port, what: `${region.database.name} (PostgreSQL)` },
    ...sockets.map((s) => ({ address: s.address, port: s.port, what: names.get(s.pid) ?? `pid ${s.pid}` })),
  ];
  const unique = all.filter((l, i) => all.findIndex((o) => o.address === l.address && o.port === l.port) === i);
  return { listeners: unique.filter((l) => inRegionRange(l.address, region.range)), outside: unique.filter((l) => !inRegionRange(l.address, region.range)) };
}
