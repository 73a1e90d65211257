import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { KubeConfig } from '@kubernetes/client-node';
import createDebug from 'debug';
import { EnvironmentError } from '../../engine/errors.js';
import { createRecordedTempDir } from '../../engine/recorded-temp-dir.js';
import type { ResourceLedger } from '../../engine/resource-ledger.js';
import { dockerEngineAnswers } from '../docker-available.js';
import { DOCKER_VARIABLES } from '../process/child-environment.js';
import { runCommand, type CommandOptions, type CommandResult } from '../process/run-command.js';
import { listClusterNodes, loadKubeConfig } from './cluster-client.js';
import type { ClusterNode, KubernetesCluster, TargetPolicy } from './types.js';

const debug = createDebug('drill:k8s');

/** kind runs docker, which needs to find its engine; nothing else of the drill's environment. */
export const KIND_ENV = { passEnv: DOCKER_VARIABLES } as const;

/** The repository's kind-config.yaml: 1 control plane, 2 workers in two zones. */
export const DEFAULT_KIND_CONFIG = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../kind-config.yaml');

/** How kind (and anything else) is run; tests pass a fake that records the calls. */
export type CommandRunner = (file: string, args: string[], options?: CommandOptions) => Promise<CommandResult>;

export interface KindClusterOptions {
  runId: string;
  ledger: ResourceLedger;
  /** Default: kind-config.yaml at the repository root. */
  configPath?: string;
  /** Node image (kindest/node:<version>); default: the kind release's own. */
  nodeImage?: string;
  /** Local Docker images to copy into the nodes (`kind load docker-image`), e.g. the app under drill. */
  loadImages?: string[];
  /** `kind` binary; default `kind` on PATH. */
  kindBinary?: string;
  run?: CommandRunner;
  dockerAnswers?: () => Promise<boolean>;
  signal?: AbortSignal;
}

/**
 * kind cluster names become container and host names: lowercase letters, digits and dashes, short.
 * The slug of the run id is shortened, so a hash of the whole run id follows it: two runs whose
 * ids share a beginning still get different clusters.
 */
export function kindClusterName(runId: string): string {
  const slug = runId.toLowerCase().replace(/[^a-z0-9-]+/g, '-').replace(/-+/g, '-').replace(/^-|-$/g, '');
  const hash = createHash('sha256').update(runId).digest('hex').slice(0, 8);
  // "<name>-control-plane" must stay a valid host name (63 characters): 40 at most.
  return `${`drill-${slug}`.slice(0, 31).replace(/-+$/, '')}-${hash}`;
}

export function kindCreateArgs(o: { name: string; configPath: string; kubeconfigPath: string; nodeImage?: string }): string[] {
  return [
    'create', 'cluster',
    '--name', o.name,
    '--config', o.configPath,
    // Its own kubeconfig file: the user's ~/.kube/config is neither changed nor needed.
    '--kubeconfig', o.kubeconfigPath,
    '--wait', '180s',
    ...(o.nodeImage ? ['--image', o.nodeImage] : []),
  ];
}

export function kindLoadImageArgs(name: string, image: string): string[] {
  return ['load', 'docker-image', image, '--name', name];
}

export function kindDeleteArgs(name: string, kubeconfigPath: string): string[] {
  return ['delete', 'cluster', '--name', name, '--kubeconfig', kubeconfigPath];
}

/** Why no kind cluster can be made here, and what to use instead. */
export function dockerUnavailable(): EnvironmentError {
  return new EnvironmentError(
    'DOCKER_UNAVAILABLE',
    `kind needs a Docker engine and none answers (DOCKER_HOST=${process.env.DOCKER_HOST ?? 'unix:///var/run/docker.sock'}). ` +
      'Use the local control plane instead: `provider: local` under targets.kubernetes in the scenario, ' +
      'or `npx drill cluster up --local` for a cluster to try things on; or start Docker.',
  );
}

/**
 * A kind cluster (Kubernetes in Docker) created for one drill from kind-config.yaml and deleted by
 * dispose(). Needs a Docker engine and the `kind` binary.
 */
export class KindCluster implements KubernetesCluster {
  readonly kind = 'kind' as const;
  readonly targetPolicy: TargetPolicy = { kind: 'whole-cluster' };
  private disposing: Promise<void> | undefined;
  /** False once `kind create` says the name is taken: dispose then leaves that cluster alone. */
  private owned = true;

  private constructor(
    readonly name: string,
    readonly kubeconfigPath: string,
    private readonly workDir: string,
    private readonly kindBinary: string,
    private readonly run: CommandRunner,
  ) {}

  get context(): string {
    return `kind-${this.name}`;
  }

  /** Creates the cluster and loads the images. `register` receives it before `kind create` runs. */
  static async create(options: KindClusterOptions, register?: (cluster: KindCluster) => void): Promise<KindCluster> {
    const run = options.run ?? runCommand;
    const kind = options.kindBinary ?? 'kind';
    if (!(await (options.dockerAnswers ?? dockerEngineAnswers)())) throw dockerUnavailable();
    await run(kind, ['version'], { ...KIND_ENV, timeoutMs: 15_000 }).catch((error: unknown) => {
      throw new EnvironmentError(
        'KIND_NOT_FOUND',
        `cannot run \`${kind} version\` (${(error as Error).message}); install kind (https://kind.sigs.k8s.io/docs/user/quick-start/#installation) ` +
          'or use the local control plane: `provider: local`.',
        { cause: error },
      );
    });
    const configPath = options.configPath ?? DEFAULT_KIND_CONFIG;
    if (!existsSync(configPath)) throw new EnvironmentError('KIND_CONFIG_MISSING', `kind config ${configPath} does not exist`);
    const name = kindClusterName(options.runId);
    // A cluster of that name is another drill's (or someone's): never create over it, nor delete it.
    const existing = await run(kind, ['get', 'clusters'], { ...KIND_ENV, timeoutMs: 30_000 });
    if (existing.stdout.split('\n').some((line) => line.trim() === name)) {
      throw new EnvironmentError(
        'KIND_CLUSTER_EXISTS',
        `a kind cluster named ${name} already exists; another drill with the same run id is running, or a killed one left it (kind delete cluster --name ${name})`,
      );
    }
    const workDir = createRecordedTempDir(options.ledger, `${name}-`, { randomBytes: 3 });
    const cluster = new KindCluster(name, path.join(workDir, 'kubeconfig'), workDir, kind, run);
    // Recorded before it exists: a drill killed during `kind create` still gets it deleted.
    options.ledger.record({ kind: 'kind-cluster', name });
    register?.(cluster);
    try {
      debug('kind create cluster %s (%s)', name, configPath);
      await run(kind, kindCreateArgs({ name, configPath, kubeconfigPath: cluster.kubeconfigPath, nodeImage: options.nodeImage }), {
        ...KIND_ENV,
        timeoutMs: 600_000,
        signal: options.signal,
      });
      for (const image of options.loadImages ?? []) {
        await run(kind, kindLoadImageArgs(name, image), { ...KIND_ENV, timeoutMs: 600_000, signal: options.signal });
      }
      return cluster;
    } catch (error) {
      // kind refuses a name it finds taken: that cluster appeared since the check and is not ours.
      if (/already exist/i.test(String((error as Error).message))) cluster.owned = false;
      await cluster.dispose().catch((e: unknown) => debug('dispose after failed create: %s', String(e)));
      throw error;
    }
  }

  connect(): KubeConfig {
    return loadKubeConfig(this.kubeconfigPath, this.context);
  }

  nodes(): Promise<ClusterNode[]> {
    return listClusterNodes(this.connect());
  }

  dispose(): Promise<void> {
    this.disposing ??= (async () => {
      try {
        if (this.owned) await this.run(this.kindBinary, kindDeleteArgs(this.name, this.kubeconfigPath), { ...KIND_ENV, timeoutMs: 300_000 });
      } finally {
        await rm(this.workDir, { recursive: true, force: true });
      }
    })();
    return this.disposing;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.dispose();
  }
}
