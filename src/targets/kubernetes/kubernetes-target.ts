import { InputError } from '../../engine/errors.js';
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
  ) {}

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
