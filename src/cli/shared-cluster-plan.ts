import { declaredNeeds } from '../scenario/needs-rules.js';
import type { Scenario } from '../scenario/schema.js';
import type { KubernetesProviderChoice } from '../targets/kubernetes/choose-kubernetes-provider.js';

/**
 * `drill run --parallel N` with several Kubernetes drills: which of them run on one local control
 * plane started for the run (`drill cluster up --local`'s default: 2 real nodes, no fake ones),
 * each in its own drill-<run> namespace, up to N at a time, instead of each starting its own.
 *
 * A drill shares only when sharing changes nothing it acts on:
 * - it would start a local control plane of its own (provider local, or auto without Docker, and
 *   no DRILL_KUBECONFIG: with DRILL_KUBECONFIG set the user already chose the cluster, and those
 *   drills keep running one at a time on it; kind and kubeconfig providers are untouched);
 * - none of its faults, steps or probes needs a cluster of its own (`own-cluster`: nodes killed,
 *   cordoned, drained, deleted, replaced, tainted, which every namespace would feel), and no
 *   revoke-all-tokens rotateSigningKey (it restarts kube-apiserver), and no preserve-forensics (it
 *   collects the apiserver's audit log only where the drill runs the apiserver: on a shared one
 *   its evidence would lack that artifact);
 * - it asks for exactly the nodes the shared cluster has (`nodes: {real: 2}`, the default): a
 *   drill sized otherwise would run on a cluster other than the one it describes.
 */
export const SHARED_CLUSTER_NODES = { real: 2, fake: 0 } as const;

export type ShareVerdict = { share: true } | { share: false; why: string };

export function mayShareCluster(scenario: Scenario, how: KubernetesProviderChoice['how'] | undefined): ShareVerdict {
  const k8s = scenario.targets.kubernetes;
  if (!k8s) return { share: false, why: 'not a Kubernetes drill' };
  if (how !== 'start-local') return { share: false, why: `its cluster is not a local control plane of its own (${how ?? 'unknown'})` };
  if (declaredNeeds(scenario).has('own-cluster')) return { share: false, why: 'it acts on nodes, which every namespace of a shared cluster would feel' };
  if (scenario.recovery.some((s) => s.step === 'revoke-all-tokens' && 'rotateSigningKey' in s && s.rotateSigningKey === true)) {
    return { share: false, why: 'revoke-all-tokens rotateSigningKey restarts kube-apiserver' };
  }
  if (scenario.recovery.some((s) => s.step === 'preserve-forensics')) {
    return { share: false, why: 'preserve-forensics collects the audit log of an apiserver the drill runs itself' };
  }
  if (k8s.nodes.real !== SHARED_CLUSTER_NODES.real || k8s.nodes.fake !== SHARED_CLUSTER_NODES.fake) {
    return { share: false, why: `it asks for nodes {real: ${k8s.nodes.real}, fake: ${k8s.nodes.fake}}, the shared cluster has {real: ${SHARED_CLUSTER_NODES.real}, fake: ${SHARED_CLUSTER_NODES.fake}}` };
  }
  return { share: true };
}

/**
 * The positions (in run order) of the drills that run on one shared control plane, or none: with
 * `--parallel 1` each drill keeps its own cluster (nothing would overlap, and the sequential gate
 * stays as it was measured), and one shareable drill alone gains nothing from it.
 */
export function sharedClusterIndexes(scenarios: readonly Scenario[], how: ReadonlyArray<KubernetesProviderChoice['how'] | undefined>, parallel: number): number[] {
  if (parallel < 2) return [];
  const indexes = scenarios.flatMap((s, i) => (mayShareCluster(s, how[i]).share ? [i] : []));
  return indexes.length >= 2 ? indexes : [];
}
