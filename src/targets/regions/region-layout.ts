import { EnvironmentError } from '../../engine/errors.js';
import { bindable, freeLoopbackPort } from '../postgres/free-port.js';
import type { ServiceMode } from '../service/service-processes.js';

/**
 * Where a region's processes listen: each process its own address of the region's loopback /24
 * (api .1-.5, worker .21-.25, scheduler .31-.32), every one on the service's port, which is the
 * same in every region (the name's A record carries addresses, not ports: clients use one port,
 * as they would 443). 127.0.0.0/8 routes to `lo` on Linux, so no address is added anywhere.
 */
const FIRST_HOST: Record<ServiceMode, number> = { api: 1, reader: 11, worker: 21, scheduler: 31 };

/** `127.a.b.0/24` → `127.a.b.` */
function prefixOf(range: string): string {
  return range.replace(/0\/24$/, '');
}

/** The address of process `index` (1-based) of `mode` in `range`. */
export function regionAddress(range: string, mode: ServiceMode, index: number): string {
  return `${prefixOf(range)}${FIRST_HOST[mode] + index - 1}`;
}

/** Every address the region's processes will bind, for `replicas` per mode. */
export function regionAddresses(range: string, replicas: Readonly<Partial<Record<ServiceMode, number>>>): string[] {
  return (Object.keys(FIRST_HOST) as ServiceMode[]).flatMap((mode) => Array.from({ length: replicas[mode] ?? 0 }, (_, i) => regionAddress(range, mode, i + 1)));
}

/** A port free on every one of `hosts` (freeLoopbackPort's pick for the first, checked on the others). */
export async function commonFreePort(hosts: readonly string[], attempts = 20): Promise<number> {
  for (let i = 0; i < attempts; i++) {
    const port = await freeLoopbackPort(hosts[0]);
    const free = await Promise.all(hosts.map((h) => bindable(h, port)));
    if (free.every(Boolean)) return port;
  }
  throw new EnvironmentError('REGION_PORT_BUSY', `no port was free on every region address (${hosts.length} addresses, ${attempts} tries); free some loopback ports and run again`);
}

/** The address a region's PostgreSQL listens on (the primary in the primary region, the replica in the DR region): `.40` of its range. */
export function regionDatabaseAddress(range: string): string {
  return `${prefixOf(range)}40`;
}

/**
 * The DR end of the inter-region link (a region-partition's replication link, a Toxiproxy proxy):
 * `.50` of the DR region's range. The DR replica's primary_conninfo names it, so its WAL crosses
 * the link; nothing else of either region uses it.
 */
export function regionLinkAddress(range: string): string {
  return `${prefixOf(range)}50`;
}
