/**
 * Addresses of a drill's private network namespace (the "drill network"). Everything a drill with
 * real nodes runs — control plane, kubelets, containerd, pods, PostgreSQL, the harness itself —
 * lives inside it; nothing in it has a route out. The ranges are from 198.18.0.0/15 (RFC 2544,
 * reserved for benchmark networks), which no machine here routes; the root namespace gets an
 * `unreachable` route for the whole range, so even a packet sent to it by mistake from outside can
 * never leave through the machine's default route.
 */
export const GUARD_CIDR = '198.18.0.0/15';
/** The bridge inside the namespace that carries the "host" address and the nodes' addresses. */
export const HOST_BRIDGE = 'drill0';
/** The namespace's own "host" address: PostgreSQL and other host services listen here for pods. */
export const HOST_IP = '198.18.0.1';
export const NODE_PREFIX_LENGTH = 24;
/** Service ClusterIPs (virtual: no kube-proxy; the harness routes to endpoints itself). */
export const SERVICE_CIDR = '198.18.16.0/20';
/** The first ClusterIP, the `kubernetes` Service's. */
export const FIRST_SERVICE_IP = '198.18.16.1';

/** Real node slots per drill network (their pod ranges are 198.19.0-127.0/24; fake nodes use 128-255). */
export const MAX_NODE_INDEX = 127;

/** Node i (from 0) gets 198.18.0.(11+i) on the host bridge. */
export function nodeIp(index: number): string {
  if (!Number.isInteger(index) || index < 0 || index > MAX_NODE_INDEX) throw new RangeError(`node index ${index} out of range 0..${MAX_NODE_INDEX}`);
  return `198.18.0.${11 + index}`;
}

/** Node i (from 0) hands out pod addresses from 198.19.i.0/24, gateway .1 on its own CNI bridge. */
export function podCidr(index: number): { subnet: string; gateway: string } {
  if (!Number.isInteger(index) || index < 0 || index > MAX_NODE_INDEX) throw new RangeError(`node index ${index} out of range 0..${MAX_NODE_INDEX}`);
  return { subnet: `198.19.${index}.0/24`, gateway: `198.19.${index}.1` };
}

/** A network namespace name for a run: `ip netns` names become file names under /run/netns. */
export function networkName(prefix: 'run' | 'cluster' | 'test', id: string): string {
  const safe = id.replace(/[^A-Za-z0-9_.-]/g, '-').slice(-32);
  return `drill-${prefix}-${safe}`;
}
