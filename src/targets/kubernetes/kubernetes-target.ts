import { EnvironmentError, InputError } from '../../engine/errors.js';
import type { KubeApi } from './kube-api.js';
import { requireDrillTargetNamespace } from './require-drill-target-namespace.js';
import type { KubernetesCluster } from './types.js';

/** Where destructive steps act: the drill's namespace, or the nodes every namespace shares. */
export type DrillScope = 'namespace' | 'cluster';

/** How the cluster came to be, for the journal: `local` may also be a running cluster named by DRILL_KUBECONFIG. */
export type KubernetesProviderName = 'local' | 'kind' | 'kubeconfig';

/**
 * The Kubernetes a drill runs against, as injectors and recovery steps see it: the cluster, the
 * namespace the system under drill lives in, typed API clients, and the safety check every
 * destructive step makes first.
 */
export class KubernetesTarget {
  /** Nodes a fault took down, newest last (recovery steps that replace nodes act on these). */
  readonly failedNodes: string[] = [];

  constructor(
    readonly cluster: KubernetesCluster,
    readonly provider: KubernetesProviderName,
    readonly namespace: string,
    /** The drill created the namespace and deletes it at teardown. */
    readonly ownsNamespace: boolean,
    readonly api: KubeApi,
    /**
     * Ready, schedulable nodes once the system under drill was deployed: the node count the drill
     * started with, which k8s-replace-node restores by default. Known where the drill can add nodes.
     */
    readonly nodesAtStart?: number,
  ) {}

  /**
   * Throws (exit 3) unless the drill can add nodes to this cluster, saying who does it there: on
   * kind the nodes are fixed at create, on someone else's cluster its node group (a cloud
   * autoscaler) replaces nodes, which the drill does not drive.
   */
  requireNodeProvisioning(what: string): void {
    if (this.cluster.addNode) return;
    const elsewhere =
      'Replacing a node is the node group\'s job there (e.g. the cloud autoscaler after `aws autoscaling set-desired-capacity`), not the drill\'s. ' +
      'To drill it, run on a control plane of the drill\'s own: targets.kubernetes.provider: local, without DRILL_KUBECONFIG.';
    const why =
      this.cluster.kind === 'kind'
        ? `the nodes of kind cluster "${this.cluster.name}" are containers fixed by its kind config at create, so the drill cannot add one.`
        : `cluster "${this.cluster.name}" (${this.provider} provider) was not started by the drill, so the drill cannot add nodes to it.`;
    throw new EnvironmentError('NODE_REPLACEMENT_UNSUPPORTED', `${what}: ${why} ${elsewhere}`);
  }

  /** One more node (see KubernetesCluster.addNode); throws like requireNodeProvisioning where there is no way to add one. */
  addNode(name?: string, zone?: string, options?: { waitReady?: boolean }): Promise<string> {
    this.requireNodeProvisioning('adding a node');
    return this.cluster.addNode!(name, zone, options);
  }

  /**
   * DESIGN.md section 6. Namespace scope: in a cluster the drill did not create, the namespace
   * must carry drill.dev/target=true (read again now, so a label removed mid-drill stops the next
   * step). Cluster scope (nodes): only in a cluster the drill created, since every namespace
   * shares the nodes.
   */
  async requireDrillTarget(what: string, scope: DrillScope = 'namespace'): Promise<void> {
    if (scope === 'namespace') return requireDrillTargetNamespace(this.cluster, this.namespace, what);
    if (this.cluster.targetPolicy.kind === 'whole-cluster') return;
    throw new InputError(
      'NOT_A_DRILL_TARGET',
      `${what} acts on nodes, which every namespace of cluster "${this.cluster.name}" shares, and the drill did not create that cluster; ` +
        'run it on a cluster of its own (targets.kubernetes.provider: local without DRILL_KUBECONFIG, or kind). Nothing was touched.',
    );
  }
}
