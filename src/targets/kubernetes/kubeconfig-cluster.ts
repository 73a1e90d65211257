import os from 'node:os';
import path from 'node:path';
import { VersionApi, type KubeConfig } from '@kubernetes/client-node';
import { EnvironmentError, InputError } from '../../engine/errors.js';
import { listClusterNodes, loadKubeConfig } from './cluster-client.js';
import { refuseContextNotAllowed } from './require-drill-target-namespace.js';
import type { ClusterNode, KubernetesCluster, TargetPolicy } from './types.js';

export interface KubeconfigClusterOptions {
  /** Default: the first file in $KUBECONFIG, else ~/.kube/config. */
  kubeconfigPath?: string;
  /** Default: the file's current context. */
  context?: string;
  /** When given, destructive steps refuse any other context (a guard against a wrong current-context). */
  allowedContexts?: readonly string[];
}

export function defaultKubeconfigPath(env: NodeJS.ProcessEnv = process.env): string {
  const first = env.KUBECONFIG?.split(path.delimiter).find(Boolean);
  return first ?? path.join(os.homedir(), '.kube', 'config');
}

/**
 * An existing cluster reached through a kubeconfig context. The harness did not create it and
 * never deletes anything in it on dispose(); destructive steps may only act in namespaces labelled
 * drill.dev/target=true (see requireDrillTargetNamespace).
 */
export class KubeconfigCluster implements KubernetesCluster {
  readonly kind = 'kubeconfig' as const;
  readonly targetPolicy: TargetPolicy;

  private constructor(
    readonly kubeconfigPath: string,
    readonly context: string,
    allowedContexts: readonly string[] | undefined,
  ) {
    this.targetPolicy = { kind: 'labelled-namespaces', ...(allowedContexts ? { allowedContexts } : {}) };
  }

  get name(): string {
    return this.context;
  }

  /** Reads the kubeconfig, checks the context exists and the apiserver answers (exit 3 when it does not). */
  static async open(options: KubeconfigClusterOptions = {}): Promise<KubeconfigCluster> {
    const file = options.kubeconfigPath ?? defaultKubeconfigPath();
    const kc = loadKubeConfig(file);
    const contexts = kc.getContexts().map((c) => c.name);
    const context = options.context ?? kc.getCurrentContext();
    if (!context || !contexts.includes(context)) {
      throw new InputError(
        'UNKNOWN_CONTEXT',
        `kubeconfig ${file} has no context "${context ?? '(no current-context)'}"; it has: ${contexts.join(', ') || 'none'}`,
      );
    }
    const cluster = new KubeconfigCluster(file, context, options.allowedContexts);
    // Before the first request: a context that is not allowed is not even asked for its version.
    refuseContextNotAllowed(cluster);
    try {
      await cluster.connect().makeApiClient(VersionApi).getCode();
    } catch (error) {
      throw new EnvironmentError(
        'K8S_UNREACHABLE',
        `the apiserver of context "${context}" (${kc.getCluster(kc.getContextObject(context)?.cluster ?? '')?.server ?? '?'}) does not answer: ${(error as Error).message}`,
        { cause: error },
      );
    }
    return cluster;
  }

  connect(): KubeConfig {
    return loadKubeConfig(this.kubeconfigPath, this.context);
  }

  nodes(): Promise<ClusterNode[]> {
    return listClusterNodes(this.connect());
  }

  /** Nothing to remove: the cluster is not the harness's. */
  async dispose(): Promise<void> {}

  async [Symbol.asyncDispose](): Promise<void> {}
}
