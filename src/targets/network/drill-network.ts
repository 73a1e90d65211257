import { existsSync } from 'node:fs';
import createDebug from 'debug';
import { EnvironmentError } from '../../engine/errors.js';
import { runCommand } from '../process/run-command.js';
import { addGuardRoute, removeGuardRoute, type GuardRoute } from './guard-route.js';
import { ip, ipIn } from './ip-command.js';
import { GUARD_CIDR, HOST_BRIDGE, HOST_IP, MAX_NODE_INDEX, NODE_PREFIX_LENGTH, nodeIp } from './layout.js';

const debug = createDebug('drill:net');

/** What a drill network leaves in the resource ledger, so a killed drill's can be removed. */
export type NetworkResource = { kind: 'netns'; name: string } | { kind: 'guard-route'; cidr: string; metric: number };

export function netnsPath(name: string): string {
  return `/run/netns/${name}`;
}

/** The command prefix that runs a program inside the named network namespace. */
export function enterNetwork(name: string): string[] {
  return ['nsenter', `--net=${netnsPath(name)}`, '--'];
}

/**
 * A network namespace the drill creates for itself: loopback, one bridge carrying the "host"
 * address (and later each real node's address), IP forwarding between its bridges, and no route
 * out — no default route, no interface connected to anything outside. The root namespace gets an
 * `unreachable` guard route for the drill range. Created by the CLI (or the test runner) before the
 * drill process starts inside it; removed after the drill, or by the reaper from the ledger.
 */
export class DrillNetwork {
  private constructor(
    readonly name: string,
    private guard: GuardRoute | undefined,
  ) {}

  get path(): string {
    return netnsPath(this.name);
  }

  static async create(name: string, record: (r: NetworkResource) => void): Promise<DrillNetwork> {
    await requireNetworkTools();
    if (existsSync(netnsPath(name))) {
      throw new EnvironmentError('DRILL_NETWORK_EXISTS', `network namespace ${name} already exists; run \`npx drill cleanup\` or remove it with \`ip netns del ${name}\``);
    }
    const network = new DrillNetwork(name, undefined);
    try {
      network.guard = await addGuardRoute(GUARD_CIDR, (route) => record({ kind: 'guard-route', ...route }));
      record({ kind: 'netns', name });
      await ip(['netns', 'add', name]);
      await ipIn(name, ['link', 'set', 'lo', 'up']);
      await ipIn(name, ['link', 'add', HOST_BRIDGE, 'type', 'bridge']);
      await ipIn(name, ['link', 'set', HOST_BRIDGE, 'up']);
      await ipIn(name, ['addr', 'add', `${HOST_IP}/${NODE_PREFIX_LENGTH}`, 'dev', HOST_BRIDGE]);
      // Pods on one node's bridge reach pods on another's and the host address through the
      // namespace itself; the sysctl is the namespace's own, not the machine's.
      await runCommand('nsenter', [`--net=${netnsPath(name)}`, '--', 'sysctl', '-q', '-w', 'net.ipv4.ip_forward=1']);
      await network.requireNoRouteOut();
      debug('drill network %s ready', name);
      return network;
    } catch (error) {
      await network.destroy().catch((e: unknown) => debug('destroy after failed create: %s', String(e)));
      throw error;
    }
  }

  /** Throws unless the namespace has no default route (the networking rule); checked at creation, and by tests. */
  async requireNoRouteOut(): Promise<void> {
    const routes = await routesOf(this.name);
    const out = routes.filter((r) => r.dst === 'default' || !r.dst.startsWith('198.1'));
    if (out.length > 0) {
      throw new EnvironmentError('DRILL_NETWORK_ROUTE_OUT', `network namespace ${this.name} has a route out (${out.map((r) => r.dst).join(', ')}); refusing to run a drill in it`);
    }
  }

  /** Removes the namespace name (it vanishes once no process is left in it) and the guard route. Idempotent. */
  async destroy(): Promise<void> {
    await destroyNetworkResources({ netns: this.name, guard: this.guard });
    this.guard = undefined;
  }
}

/** The IPv4 routes of a namespace's main table. */
export async function routesOf(netns: string): Promise<{ dst: string; dev?: string }[]> {
  const { stdout } = await ipIn(netns, ['-4', '-j', 'route', 'show']);
  return JSON.parse(stdout || '[]') as { dst: string; dev?: string }[];
}

/** Removes what a drill network consists of; safe when parts are already gone. */
export async function destroyNetworkResources(r: { netns?: string; guard?: GuardRoute }): Promise<string[]> {
  const removed: string[] = [];
  if (r.netns && existsSync(netnsPath(r.netns))) {
    await ip(['netns', 'del', r.netns]);
    removed.push(`netns ${r.netns}`);
  }
  if (r.guard && (await removeGuardRoute(r.guard))) removed.push(`guard route ${r.guard.cidr} metric ${r.guard.metric}`);
  return removed;
}

/** The drill network needs root (CAP_NET_ADMIN, CAP_SYS_ADMIN) and iproute2/util-linux. */
export async function requireNetworkTools(): Promise<void> {
  if (process.getuid?.() !== 0) {
    throw new EnvironmentError('DRILL_NETWORK_NEEDS_ROOT', 'drills with real Kubernetes nodes create their own network namespace and need root (CAP_NET_ADMIN and CAP_SYS_ADMIN); run as root, or ask for fake nodes (targets.kubernetes.nodes: {fake: 3})');
  }
  for (const tool of ['ip', 'nsenter']) {
    await runCommand(tool, ['-V'], { timeoutMs: 5000 }).catch(() => {
      throw new EnvironmentError('DRILL_NETWORK_TOOLS_MISSING', `\`${tool}\` is not installed; install iproute2 and util-linux (Debian: apt-get install iproute2 util-linux)`);
    });
  }
}

/**
 * Claims a node slot of the drill network the caller runs in: the first index from `from` whose
 * address (layout.ts nodeIp) is free on the host bridge. Adding the address is the claim — the
 * kernel refuses an address that is already there — so clusters sharing one drill network (the
 * test suite's) never hand out one address, pod range or bridge twice.
 */
export async function claimNodeIndex(from = 0): Promise<number> {
  for (let index = from; index <= MAX_NODE_INDEX; index++) {
    const added = await ip(['addr', 'add', `${nodeIp(index)}/${NODE_PREFIX_LENGTH}`, 'dev', HOST_BRIDGE], [0, 2]);
    if (added.code === 0) return index;
    if (!/File exists|already assigned/i.test(added.stderr)) {
      throw new EnvironmentError('NODE_ADDRESS_FAILED', `could not add ${nodeIp(index)} to ${HOST_BRIDGE}: ${added.stderr.trim()}; is this drill running inside its drill network?`);
    }
  }
  throw new EnvironmentError('NODE_ADDRESSES_EXHAUSTED', `all ${MAX_NODE_INDEX + 1} node addresses of this drill network are taken; stop other clusters in it`);
}

/** Gives a node slot back: its address, and the CNI bridge its pods used (the bridge plugin never removes it). */
export async function releaseNodeIndex(index: number, cniBridge: string): Promise<void> {
  await ip(['link', 'del', cniBridge], [0, 1, 2]);
  await ip(['addr', 'del', `${nodeIp(index)}/${NODE_PREFIX_LENGTH}`, 'dev', HOST_BRIDGE], [0, 1, 2]);
}
