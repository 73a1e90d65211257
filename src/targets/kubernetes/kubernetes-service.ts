import type { V1EndpointSlice, V1Pod } from '@kubernetes/client-node';
import createDebug from 'debug';
import { EnvironmentError } from '../../engine/errors.js';
import { GUARD_CIDR } from '../network/layout.js';
import { prefixesOverlap } from '../network/guard-route.js';
import type { LocalServiceProcess, ServiceComponent, ServiceEndpoint, ServiceTarget } from '../service/types.js';
import { containerProcessesHere, runtimeContainerId } from './container-processes.js';
import type { KubeApi } from './kube-api.js';

const debug = createDebug('drill:k8s');

/** The built-in system's names (manifests/truststream). */
export const API_SERVICE = 'truststream-api';
const API_SELECTOR = 'app=truststream-api';
const READER_SELECTOR = 'app=truststream-reader';
const PART_OF_SELECTOR = 'app.kubernetes.io/part-of=truststream';
const SERVICE_PORT = 8080;
const ERROR_LEVEL = /"level":"(ERROR|FATAL)"/;

/**
 * An address the harness may contact: one of the drill network (a pod, a node) or loopback. An
 * endpoint elsewhere (someone's cluster, or a made-up address a fake node reports) is never
 * dialled: that would be traffic out of the drill's own networks.
 */
export function isDrillAddress(ip: string): boolean {
  return ip.startsWith('127.') || prefixesOverlap(`${ip}/32`, GUARD_CIDR);
}

/** The ready endpoints of EndpointSlices as URLs (a nil `ready` is ready; terminating ones are not). */
export function readyEndpointUrls(slices: V1EndpointSlice[]): ServiceEndpoint[] {
  const out: ServiceEndpoint[] = [];
  for (const slice of slices) {
    const port = slice.ports?.find((p) => p.name === 'http')?.port ?? slice.ports?.[0]?.port ?? SERVICE_PORT;
    for (const endpoint of slice.endpoints ?? []) {
      if (endpoint.conditions?.ready === false) continue;
      const address = endpoint.addresses[0];
      if (!address || !isDrillAddress(address)) continue;
      out.push({ name: endpoint.targetRef?.name ?? address, url: `http://${address}:${port}` });
    }
  }
  return out.sort((a, b) => a.name.localeCompare(b.name));
}

const isReady = (p: V1Pod) => !p.metadata?.deletionTimestamp && p.status?.conditions?.find((c) => c.type === 'Ready')?.status === 'True';

/**
 * The built-in TrustStram as a Kubernetes Deployment behind a Service, seen the way its clients
 * see it: the API's endpoints are the ready endpoints of the Service's EndpointSlices (what
 * kube-proxy would route to; none runs here, so the harness routes itself), asked again before
 * every request, so a rollout, a blue-green switch or a node loss moves the traffic as it moves a
 * Service's. The reader's endpoints are its ready pods. Only addresses of the drill network are
 * used. The service is moved by the runbook's own Kubernetes steps (Secret patch, rollout), so
 * this target has no `restart`/`followDatabase`.
 */
export class KubernetesService implements ServiceTarget {
  /** Optional capability (ServiceTarget.localProcesses): set by `detectLocalContainers` where the pods run here. */
  localProcesses?: () => Promise<LocalServiceProcess[]>;
  private readonly errorCounts = new Map<string, number>();
  private readonly restartCounts = new Map<string, number>();

  constructor(
    private readonly api: KubeApi,
    private readonly namespace: string,
    readonly token: string,
    private readonly initialVersion: string,
  ) {}

  get description(): string {
    return `TrustStram ${this.initialVersion} on Kubernetes (namespace ${this.namespace}, Service ${API_SERVICE})`;
  }

  get version(): string {
    return this.initialVersion;
  }

  async endpoints(component: ServiceComponent = 'api'): Promise<ServiceEndpoint[]> {
    if (component === 'reader') return this.podEndpoints(READER_SELECTOR);
    const slices = await this.api.discovery.listNamespacedEndpointSlice({ namespace: this.namespace, labelSelector: `kubernetes.io/service-name=${API_SERVICE}` });
    return readyEndpointUrls(slices.items);
  }

  /** Every ready pod of the system (all modes serve /metrics). */
  metricsEndpoints(): Promise<ServiceEndpoint[]> {
    return this.podEndpoints(PART_OF_SELECTOR);
  }

  private async podEndpoints(labelSelector: string): Promise<ServiceEndpoint[]> {
    const pods = (await this.api.core.listNamespacedPod({ namespace: this.namespace, labelSelector })).items;
    return pods
      .filter((p) => isReady(p) && p.status?.podIP && isDrillAddress(p.status.podIP))
      .map((p) => ({ name: p.metadata!.name!, url: `http://${p.status!.podIP}:${SERVICE_PORT}` }))
      .sort((a, b) => a.name.localeCompare(b.name));
  }

  /** Restarts of the system's containers (per pod the highest count seen, so a deleted pod's are kept). */
  readonly restarts = {
    total: async (): Promise<number> => {
      const pods = (await this.api.core.listNamespacedPod({ namespace: this.namespace, labelSelector: PART_OF_SELECTOR })).items;
      for (const pod of pods) {
        const count = (pod.status?.containerStatuses ?? []).reduce((n, c) => n + (c.restartCount ?? 0), 0);
        const name = pod.metadata!.name!;
        this.restartCounts.set(name, Math.max(count, this.restartCounts.get(name) ?? 0));
      }
      return [...this.restartCounts.values()].reduce((a, b) => a + b, 0);
    },
  };

  /**
   * Error-level lines in the pods' logs (the logs API, as `kubectl logs ... | grep ERROR`): per pod
   * the most seen, so a counter that only grows even when a pod's log goes with the pod.
   */
  readonly errorLogs = {
    errorLines: async (): Promise<number> => {
      const pods = (await this.api.core.listNamespacedPod({ namespace: this.namespace, labelSelector: PART_OF_SELECTOR })).items;
      for (const pod of pods) {
        const name = pod.metadata!.name!;
        if (!pod.status?.containerStatuses?.some((c) => c.state?.running || c.state?.terminated)) continue;
        const log = await this.api.core.readNamespacedPodLog({ name, namespace: this.namespace }).catch((error: unknown) => {
          debug('logs of %s: %s', name, String(error));
          return undefined;
        });
        if (typeof log !== 'string') continue;
        const count = log.split('\n').filter((line) => ERROR_LEVEL.test(line)).length;
        this.errorCounts.set(name, Math.max(count, this.errorCounts.get(name) ?? 0));
      }
      return [...this.errorCounts.values()].reduce((a, b) => a + b, 0);
    },
  };
}

/**
 * Gives `service` the `localProcesses` capability (what a memory dump may read) when its API pods'
 * containers are processes of this machine: real nodes, kind's node containers. Found by the
 * container IDs the pods' statuses name, looked up again at each use (a pod replaced meanwhile has
 * a new one). Elsewhere (someone's cluster, fake nodes) the service has no such capability.
 * Resolves with whether it has it now.
 */
export async function detectLocalContainers(service: KubernetesService, api: KubeApi, namespace: string): Promise<boolean> {
  const apiContainers = async () => {
    const pods = (await api.core.listNamespacedPod({ namespace, labelSelector: API_SELECTOR })).items;
    return pods.flatMap((pod) =>
      (pod.status?.containerStatuses ?? []).flatMap((c) => {
        const id = c.state?.running ? runtimeContainerId(c.containerID) : undefined;
        return id ? [{ name: `${pod.metadata!.name!}.${c.name}`, id, podUid: pod.metadata!.uid! }] : [];
      }),
    );
  };
  if (containerProcessesHere(await apiContainers()).length === 0) return false;
  service.localProcesses = async (): Promise<LocalServiceProcess[]> => {
    const containers = await apiContainers();
    const names = new Map(containers.map((c) => [c.id, c.name]));
    return containerProcessesHere(containers).map((p) => ({ name: names.get(p.containerId)!, mode: 'api', pid: p.pid, startTime: p.startTime }));
  };
  debug('the API pods of %s run on this machine: their memory can be dumped', namespace);
  return true;
}

/** The release the API Deployment runs now, from its image tag (`drill.local/truststream:<version>`). */
export async function runningRelease(api: KubeApi, namespace: string): Promise<string> {
  const d = await api.apps.readNamespacedDeployment({ name: API_SERVICE, namespace });
  const image = d.spec?.template.spec?.containers[0]?.image ?? '';
  const tag = image.split('@')[0]!.split(':').pop();
  if (!tag || tag === image) throw new EnvironmentError('SERVICE_VERSION_UNKNOWN', `deployment ${API_SERVICE} runs image "${image}", which names no release tag`);
  return tag;
}
