import { VersionApi } from '@kubernetes/client-node';
import { resolveFromScenario } from '../../scenario/scenario-paths.js';
import type { Scenario } from '../../scenario/schema.js';
import { chooseKubernetesProvider, type KubernetesProviderChoice } from './choose-kubernetes-provider.js';
import { createDrillNamespace, deleteNamespace, drillNamespaceName, waitForDefaultServiceAccount } from './drill-namespace.js';
import { kubeApi } from './kube-api.js';
import { KubeconfigCluster } from './kubeconfig-cluster.js';
import { registerKubeconfigSecrets } from './kubeconfig-secrets.js';
import { KubernetesTarget } from './kubernetes-target.js';
import { refuseClusterScopedKinds } from './cluster-scope.js';
import { databaseRequired, mayRunRealContainers } from './builtin-system-database.js';
import { BUILTIN_MANIFESTS, placeManifests, readManifests } from './manifest-set.js';
import { schedulableNodeNames } from './node-capacity.js';
import { requireDrillTargetNamespace } from './require-drill-target-namespace.js';
import {
  applyObjects,
  deleteObjects,
  deploymentNames,
  serviceNames,
  waitForDeployments,
  waitForServiceEndpoints,
  type AppliedObject,
} from './system-under-drill.js';
import type { KubernetesCluster } from './types.js';
import { InputError } from '../../engine/errors.js';
import type { ProvisionOptions } from '../postgres/provision-postgres.js';

type KubernetesSpec = NonNullable<Scenario['targets']['kubernetes']>;

export interface KubernetesProvisionOptions extends ProvisionOptions {
  signal: AbortSignal;
  /** Relative `manifests` paths are read from the scenario file's directory. */
  scenarioFile?: string;
  /** DATABASE_URL for the application's Secret, when the drill has a PostgreSQL. */
  databaseUrl?: string;
  /** READER_DATABASE_URL for the reader mode (a read-only role), beside it. */
  readerDatabaseUrl?: string;
}

/** A namespace deleted at teardown may take this long to empty (its pods, then itself). */
const NAMESPACE_DELETE_TIMEOUT_MS = 60_000;

/**
 * Stands up the scenario's Kubernetes: a cluster (started, or given), the drill's namespace, and
 * the system under drill, available. Teardown is registered before each piece it undoes.
 */
export async function provisionKubernetes(spec: KubernetesSpec, options: KubernetesProvisionOptions): Promise<KubernetesTarget> {
  const { recorder, teardown, runId, signal } = options;
  const choice = await chooseKubernetesProvider(spec.provider);
  recorder.event('provider', `Kubernetes provider: ${choice.name} (${choice.why})`);
  if (choice.how === 'kubeconfig' && !spec.namespace) {
    throw new InputError(
      'NAMESPACE_REQUIRED',
      'targets.kubernetes.provider is kubeconfig: name the namespace the drill may deploy into and damage (targets.kubernetes.namespace), ' +
        'labelled drill.dev/target=true',
    );
  }

  // Read (and checked) before any cluster is touched; validation read the same files already.
  const source = spec.manifests ? resolveFromScenario(options.scenarioFile, spec.manifests) : BUILTIN_MANIFESTS;
  const manifests = await readManifests(source);
  // The built-in system on real containers needs the drill's database; said before a cluster starts.
  const needsDatabase = !spec.manifests && options.databaseUrl === undefined;
  if (needsDatabase && choice.how === 'start-local' && spec.nodes.real > 0) throw databaseRequired(`${spec.nodes.real} real node(s)`, { fakeNodesPossible: true });
  if (needsDatabase && choice.how === 'kind') throw databaseRequired('a kind cluster', { fakeNodesPossible: false });

  let cluster: KubernetesCluster | undefined;
  teardown.push('remove Kubernetes cluster', async () => {
    await cluster?.dispose();
  });
  cluster = await openCluster(choice, spec, options, (c) => (cluster = c));
  registerKubeconfigSecrets(cluster.connect(), recorder.secrets);
  const api = kubeApi(cluster.connect());
  const version = await cluster.connect().makeApiClient(VersionApi).getCode();
  recorder.journal.components.kubernetes = version.gitVersion;
  recorder.journal.components.kubernetesProvider = choice.name;

  const ownsNamespace = choice.how !== 'kubeconfig';
  const namespace = ownsNamespace ? (spec.namespace ?? drillNamespaceName(runId)) : spec.namespace!;
  if (cluster.targetPolicy.kind !== 'whole-cluster') {
    // Someone else's cluster (kubeconfig, DRILL_KUBECONFIG): only namespaced kinds, as API
    // discovery says, and only into a namespace that is a drill target; both before any write.
    if (!ownsNamespace) await requireDrillTargetNamespace(cluster, namespace, 'deploying the system under drill');
    await refuseClusterScopedKinds(cluster.connect(), manifests, { namespace, source: spec.manifests ?? 'built-in' });
    if (needsDatabase && (await mayRunRealContainers(api))) throw databaseRequired(`the nodes of ${cluster.name}`, { fakeNodesPossible: false });
  }
  if (ownsNamespace) {
    // A cluster the drill created goes away whole; in a running one, the namespace must be removed,
    // but only if this run created it: a namespace that already existed (NAMESPACE_EXISTS) is
    // someone else's. Teardown and the reaper also check the namespace's drill.dev/run label.
    if (cluster.targetPolicy.kind !== 'whole-cluster') {
      let created = false;
      teardown.push(`delete namespace ${namespace}`, async () => {
        if (created) await deleteNamespace(api, namespace, { timeoutMs: NAMESPACE_DELETE_TIMEOUT_MS, runId });
      });
      options.ledger.record({ kind: 'k8s-namespace', kubeconfig: cluster.kubeconfigPath, context: cluster.context, name: namespace, runId });
      await createDrillNamespace(api, namespace, runId);
      created = true;
    } else {
      await createDrillNamespace(api, namespace, runId);
    }
    await waitForDefaultServiceAccount(api, namespace, { timeoutMs: 30_000, signal });
  }
  recorder.journal.components.kubernetesNamespace = namespace;

  const objects = placeManifests(manifests, {
    namespace,
    runId,
    ...(options.databaseUrl !== undefined ? { databaseUrl: options.databaseUrl } : {}),
    ...(options.readerDatabaseUrl !== undefined ? { readerDatabaseUrl: options.readerDatabaseUrl } : {}),
  });
  const applied: AppliedObject[] = [];
  if (!ownsNamespace) teardown.push('remove the system under drill', () => deleteObjects(api, namespace, applied));
  await applyObjects(api, objects, (o) => applied.push(o));
  const deployments = deploymentNames(objects);
  const ready = { timeoutMs: spec.readyTimeout, signal };
  await waitForDeployments(api, namespace, deployments, ready);
  await waitForServiceEndpoints(api, namespace, serviceNames(objects), ready);
  recorder.event('system-deployed', `system under drill available in ${cluster.name}/${namespace}: ${applied.map((o) => `${o.kind}/${o.name}`).join(', ')}`, {
    cluster: cluster.name,
    namespace,
    manifests: spec.manifests ?? 'built-in (truststream)',
    objects: applied.map((o) => `${o.kind}/${o.name}`),
  });
  // The node count k8s-replace-node restores; read only where nodes can be added (listing nodes
  // needs cluster-wide rights a namespace in someone else's cluster may not have).
  const nodesAtStart = cluster.addNode ? (await schedulableNodeNames(api)).length : undefined;
  return new KubernetesTarget(cluster, choice.name, namespace, ownsNamespace, api, nodesAtStart);
}

async function openCluster(
  choice: KubernetesProviderChoice,
  spec: KubernetesSpec,
  options: KubernetesProvisionOptions,
  register: (cluster: KubernetesCluster) => void,
): Promise<KubernetesCluster> {
  switch (choice.how) {
    case 'kubeconfig':
      return KubeconfigCluster.open({
        ...(spec.kubeconfig ? { kubeconfigPath: resolveFromScenario(options.scenarioFile, spec.kubeconfig) } : {}),
        ...(spec.context ? { context: spec.context } : {}),
        ...(spec.allowedContexts ? { allowedContexts: spec.allowedContexts } : {}),
      });
    case 'reuse-local':
      return KubeconfigCluster.open({ kubeconfigPath: choice.kubeconfig });
    case 'kind': {
      const { KindCluster } = await import('./kind-cluster.js');
      return KindCluster.create({ runId: options.runId, ledger: options.ledger, signal: options.signal }, register);
    }
    case 'start-local': {
      const { LocalControlPlane } = await import('./local-control-plane.js');
      const { buildNodeImages } = await import('./real-nodes/node-images.js');
      return LocalControlPlane.start(
        {
          runId: options.runId,
          ledger: options.ledger,
          nodes: spec.nodes.fake,
          realNodes: spec.nodes.real,
          ...(spec.nodes.real > 0 ? { nodeImages: await buildNodeImages() } : {}),
          signal: options.signal,
          onProgress: (message) => options.recorder.event('control-plane', message),
          secrets: options.recorder.secrets,
        },
        register,
      );
    }
  }
}
