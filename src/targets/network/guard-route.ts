import { randomInt } from 'node:crypto';
import createDebug from 'debug';
import { EnvironmentError } from '../../engine/errors.js';
import { ip } from './ip-command.js';

const debug = createDebug('drill:net');

export interface GuardRoute {
  cidr: string;
  /** Each drill adds its own route (the metric tells them apart) and removes only that one. */
  metric: number;
}

/** A route of the caller's namespace: prefix, and whether it is one of our `unreachable` guards. */
interface RootRoute {
  dst: string;
  unreachable: boolean;
}

async function rootRoutes(): Promise<RootRoute[]> {
  const { stdout } = await ip(['-4', '-j', 'route', 'show', 'table', 'all']);
  const routes = JSON.parse(stdout || '[]') as { dst: string; type?: string }[];
  return routes.map((r) => ({ dst: r.dst, unreachable: r.type === 'unreachable' }));
}

function toRange(cidr: string): [number, number] {
  const [addr, len] = cidr.split('/');
  const bits = len === undefined ? 32 : Number(len);
  const n = addr!.split('.').reduce((a, o) => a * 256 + Number(o), 0);
  const size = 2 ** (32 - bits);
  const start = n - (n % size);
  return [start, start + size - 1];
}

/** Whether two IPv4 prefixes overlap (`default` overlaps nothing: it is the route we guard against). */
export function prefixesOverlap(a: string, b: string): boolean {
  if (a === 'default' || b === 'default') return false;
  const [a0, a1] = toRange(a);
  const [b0, b1] = toRange(b);
  return a0 <= b1 && b0 <= a1;
}

/**
 * Adds an `unreachable` route for `cidr` to the network namespace the drill is started from (the
 * machine's, normally), so that no packet for the drill network can leave through its default
 * route, whatever sends it. A namespace without a default route (a drill network started from
 * within another, as the test suite does) has no way out to guard: undefined. Refuses when the
 * machine already routes part of that range somewhere real: the drill network would shadow it.
 * `record` runs before the route exists, so a killed drill's reaper knows to remove it.
 */
export async function addGuardRoute(cidr: string, record: (route: GuardRoute) => void): Promise<GuardRoute | undefined> {
  const routes = await rootRoutes();
  if (!routes.some((r) => r.dst === 'default' && !r.unreachable)) {
    debug('no default route here: nothing to guard %s against', cidr);
    return undefined;
  }
  const clash = routes.find((r) => !r.unreachable && prefixesOverlap(r.dst, cidr));
  if (clash) {
    throw new EnvironmentError(
      'DRILL_NETWORK_CLASH',
      `this machine routes ${clash.dst}, which overlaps the drill network ${cidr}; drills with real nodes cannot run here without shadowing it. ` +
        'Remove that route or run on a machine that does not use 198.18.0.0/15',
    );
  }
  for (let attempt = 0; attempt < 5; attempt++) {
    const route = { cidr, metric: randomInt(1000, 65000) };
    record(route);
    const added = await ip(['route', 'add', 'unreachable', cidr, 'metric', String(route.metric)], [0, 2]);
    if (added.code === 0) {
      debug('guard route unreachable %s metric %d added', cidr, route.metric);
      return route;
    }
    if (!/File exists/.test(added.stderr)) {
      throw new EnvironmentError('GUARD_ROUTE_FAILED', `could not add the guard route "unreachable ${cidr}": ${added.stderr.trim()}`);
    }
  }
  throw new EnvironmentError('GUARD_ROUTE_FAILED', `could not find a free metric for the guard route "unreachable ${cidr}"`);
}

/** Removes exactly this guard route; true when it was there. */
export async function removeGuardRoute(route: GuardRoute): Promise<boolean> {
  const removed = await ip(['route', 'del', 'unreachable', route.cidr, 'metric', String(route.metric)], [0, 2]);
  if (removed.code === 0) debug('guard route unreachable %s metric %d removed', route.cidr, route.metric);
  return removed.code === 0;
}

/** The guard routes for `cidr` present in the root namespace (their metrics). */
export async function guardRoutes(cidr: string): Promise<number[]> {
  const { stdout } = await ip(['-4', '-j', 'route', 'show', 'table', 'all', 'type', 'unreachable']);
  const routes = JSON.parse(stdout || '[]') as { dst: string; metric?: number }[];
  return routes.filter((r) => r.dst === cidr).map((r) => r.metric ?? 0);
}
