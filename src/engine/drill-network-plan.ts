import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { Scenario } from '../scenario/schema.js';
import { chooseKubernetesProvider } from '../targets/kubernetes/choose-kubernetes-provider.js';

/**
 * Where a drill's process runs, network-wise: in a drill network of its own (it starts real
 * nodes: their addresses, bridges and pods must live in a namespace the drill created), in the
 * drill network of the running cluster it reuses, or where the CLI runs (nothing it creates needs
 * an address outside loopback).
 */
export type DrillNetworkPlan = { how: 'create' } | { how: 'join'; name: string } | { how: 'here' };

/** The file beside a cluster's kubeconfig naming the drill network the cluster lives in. */
export function clusterNetworkFile(kubeconfig: string): string {
  return path.join(path.dirname(kubeconfig), 'network');
}

export async function drillNetworkPlan(scenario: Scenario, env: NodeJS.ProcessEnv = process.env): Promise<DrillNetworkPlan> {
  const k8s = scenario.targets.kubernetes;
  if (!k8s) return { how: 'here' };
  const choice = await chooseKubernetesProvider(k8s.provider, env);
  if (choice.how === 'reuse-local') {
    const file = clusterNetworkFile(choice.kubeconfig);
    return existsSync(file) ? { how: 'join', name: readFileSync(file, 'utf8').trim() } : { how: 'here' };
  }
  if (choice.how === 'start-local' && k8s.nodes.real > 0) return { how: 'create' };
  return { how: 'here' };
}
