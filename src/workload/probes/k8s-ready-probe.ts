import type { KubernetesTarget } from '../../targets/kubernetes/kubernetes-target.js';
import { availableReplicas, serviceReadyEndpoints } from '../../targets/kubernetes/readiness.js';
import type { ProbeCheck } from './probe.js';

export type K8sReadyTarget = { deployment: string } | { endpoints: string };

/**
 * Kubernetes readiness as a service probe: a Deployment with at least `min` available replicas,
 * or a Service with at least `min` ready endpoints in its EndpointSlices (what a load balancer
 * in front of it would send traffic to). Fewer is a failing sample, with the count in the error.
 */
export class K8sReadyProbe implements ProbeCheck {
  constructor(
    readonly name: string,
    private readonly k8s: () => KubernetesTarget,
    private readonly target: K8sReadyTarget,
    private readonly min: number,
    readonly intervalMs: number,
    readonly timeoutMs: number,
    readonly service: boolean,
  ) {}

  async check(): Promise<void> {
    const { api, namespace } = this.k8s();
    if ('deployment' in this.target) {
      const d = await api.apps.readNamespacedDeployment({ name: this.target.deployment, namespace });
      const available = availableReplicas(d);
      if (available < this.min) {
        throw new Error(`deployment ${this.target.deployment}: ${available} available replicas, fewer than ${this.min}`);
      }
      return;
    }
    const ready = await serviceReadyEndpoints(api, namespace, this.target.endpoints);
    if (ready.length < this.min) {
      throw new Error(`service ${this.target.endpoints}: ${ready.length} ready endpoints, fewer than ${this.min}`);
    }
  }

  async close(): Promise<void> {}
}
