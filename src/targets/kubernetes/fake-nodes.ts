import { CoreV1Api, type KubeConfig, type V1Node } from '@kubernetes/client-node';
import { sleep } from '../../engine/clock.js';
import { EnvironmentError } from '../../engine/errors.js';
import { toClusterNode } from './cluster-client.js';
import { KWOK_NODE_ANNOTATION, podCidrOf } from './component-args.js';

export const FAKE_NODE_ZONES = ['zone-a', 'zone-b', 'zone-c'];

export function fakeNodeName(index: number): string {
  return `kwok-node-${index + 1}`;
}

/**
 * A Node simulated by kwok (annotated kwok.x-k8s.io/node=fake, kwok's own convention, so tools and
 * people can tell): its kwok heartbeats and makes the pods bound to it Running and Ready without
 * running containers. Nodes are spread over zones so that
 * zone-aware scheduling and zone-loss drills have something to act on. Status (capacity) is
 * accepted on create for Nodes, which is how kubelets register too.
 */
/**
 * Beside real nodes, fake ones are tainted: only pods that tolerate the taint land there (node
 * churn and scale tests), so the system under drill, which must really run, goes to real nodes.
 */
export const FAKE_NODE_TAINT = { key: 'drill.dev/fake-node', value: 'true', effect: 'NoSchedule' };

export function fakeNodeManifest(index: number, override: { name?: string; zone?: string; tainted?: boolean } = {}): V1Node {
  const name = override.name ?? fakeNodeName(index);
  const zone = override.zone ?? FAKE_NODE_ZONES[index % FAKE_NODE_ZONES.length]!;
  const resources = { cpu: '4', memory: '8Gi', pods: '110' };
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name,
      annotations: { [KWOK_NODE_ANNOTATION]: 'fake', 'node.alpha.kubernetes.io/ttl': '0' },
      labels: {
        type: 'kwok',
        'kubernetes.io/hostname': name,
        'kubernetes.io/os': 'linux',
        'kubernetes.io/arch': 'amd64',
        'node-role.kubernetes.io/worker': '',
        'topology.kubernetes.io/region': 'drill-local',
        'topology.kubernetes.io/zone': zone,
      },
    },
    spec: { podCIDR: podCidrOf(index), podCIDRs: [podCidrOf(index)], ...(override.tainted ? { taints: [FAKE_NODE_TAINT] } : {}) },
    status: { allocatable: resources, capacity: resources },
  };
}

/**
 * The zone a node group puts its next node in: the one with the fewest live nodes, the first on a
 * tie, as cloud autoscalers balance availability zones. So a replacement lands in the zone that
 * lost a node.
 */
export function leastPopulatedZone(liveNodeZones: ReadonlyArray<string | undefined>, zones: readonly string[] = FAKE_NODE_ZONES): string {
  const count = (zone: string) => liveNodeZones.filter((z) => z === zone).length;
  return zones.reduce((best, zone) => (count(zone) < count(best) ? zone : best));
}

export async function createFakeNodes(kc: KubeConfig, count: number, options: { tainted?: boolean } = {}): Promise<string[]> {
  const core = kc.makeApiClient(CoreV1Api);
  const names: string[] = [];
  for (let i = 0; i < count; i++) {
    const node = await core.createNode({ body: fakeNodeManifest(i, { tainted: options.tainted ?? false }) });
    names.push(node.metadata!.name!);
  }
  return names;
}

/** Waits until kwok has taken every named node over and reports it Ready. */
export async function waitForNodesReady(
  kc: KubeConfig,
  names: string[],
  options: { timeoutMs: number; signal?: AbortSignal },
): Promise<void> {
  const core = kc.makeApiClient(CoreV1Api);
  const deadline = Date.now() + options.timeoutMs;
  let notReady = names;
  for (;;) {
    options.signal?.throwIfAborted();
    const nodes = (await core.listNode()).items.map(toClusterNode);
    notReady = names.filter((n) => !nodes.find((node) => node.name === n)?.ready);
    if (notReady.length === 0) return;
    if (Date.now() > deadline) {
      throw new EnvironmentError(
        'FAKE_NODES_NOT_READY',
        `kwok did not make node(s) ${notReady.join(', ')} Ready within ${options.timeoutMs / 1000}s; see kwok's log in the cluster's temp dir`,
      );
    }
    await sleep(250, options.signal);
  }
}
