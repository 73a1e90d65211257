import { dockerEngineAnswers } from '../docker-available.js';

export type KubernetesProviderWanted = 'auto' | 'local' | 'kind' | 'kubeconfig';

/**
 * How the drill gets its cluster: `start-local` (a control plane of its own), `reuse-local` (the
 * running local cluster DRILL_KUBECONFIG names, e.g. from `drill cluster up --local`, with a fresh
 * namespace of its own), `kind`, or `kubeconfig` (someone's cluster, a labelled namespace).
 */
export type KubernetesProviderChoice =
  | { name: 'local'; how: 'start-local'; why: string }
  | { name: 'local'; how: 'reuse-local'; kubeconfig: string; why: string }
  | { name: 'kind'; how: 'kind'; why: string }
  | { name: 'kubeconfig'; how: 'kubeconfig'; why: string };

type Strategy = (wanted: KubernetesProviderWanted, env: NodeJS.ProcessEnv, docker: () => Promise<boolean>) => Promise<KubernetesProviderChoice | undefined>;

/** Ordered: the first strategy that applies decides. */
const STRATEGIES: Strategy[] = [
  async (wanted) => (wanted === 'kubeconfig' ? { name: 'kubeconfig', how: 'kubeconfig', why: 'chosen in the scenario' } : undefined),
  async (wanted) => (wanted === 'kind' ? { name: 'kind', how: 'kind', why: 'chosen in the scenario' } : undefined),
  async (wanted, env) =>
    (wanted === 'local' || wanted === 'auto') && env.DRILL_KUBECONFIG
      ? { name: 'local', how: 'reuse-local', kubeconfig: env.DRILL_KUBECONFIG, why: `${wanted}: the running cluster DRILL_KUBECONFIG names (${env.DRILL_KUBECONFIG})` }
      : undefined,
  async (wanted) => (wanted === 'local' ? { name: 'local', how: 'start-local', why: 'chosen in the scenario' } : undefined),
  async (wanted, _env, docker) => (wanted === 'auto' && (await docker()) ? { name: 'kind', how: 'kind', why: 'auto: a Docker engine answers' } : undefined),
  async () => ({ name: 'local', how: 'start-local', why: 'auto: no Docker engine answers, starting a local control plane' }),
];

export async function chooseKubernetesProvider(
  wanted: KubernetesProviderWanted,
  env: NodeJS.ProcessEnv = process.env,
  docker: () => Promise<boolean> = dockerEngineAnswers,
): Promise<KubernetesProviderChoice> {
  for (const strategy of STRATEGIES) {
    const choice = await strategy(wanted, env, docker);
    if (choice) return choice;
  }
  throw new Error('unreachable: the last strategy always applies');
}
