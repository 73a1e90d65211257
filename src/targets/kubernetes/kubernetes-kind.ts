import type { TargetKind } from '../target-kind.js';
import { createServiceCredentials } from '../service/service-credentials.js';
import { applicationConnection, databaseUrl } from './database-url.js';

/**
 * `targets.kubernetes`: a cluster (started, or given), the drill's namespace and the system under
 * drill in it. The built-in system with the drill's database is also the service under drill
 * (`KubernetesService`): like the plain processes, it gets an API token and a reader role first.
 */
export const kubernetesKind: TargetKind<'kubernetes'> = {
  // The application's DATABASE_URL Secret points at the drill's database, when there is one.
  after: ['postgres'],
  provides: ['k8s', 'service'],
  // Local control plane: its directory, processes, containerd instances and pod cgroups; kind: its
  // cluster and directory; someone else's cluster: the namespace the drill created there.
  records: ['temp-dir', 'process', 'containerd', 'cgroup', 'kind-cluster', 'k8s-namespace'],
  async provision(spec, env, provided) {
    // Imported here: only a Kubernetes drill loads the Kubernetes client (half a second per drill process).
    const { provisionKubernetes } = await import('./provision-kubernetes.js');
    const { detectLocalContainers, KubernetesService, runningRelease } = await import('./kubernetes-service.js');
    const { runId, recorder, teardown, appHost } = env;
    const router = provided.router;
    const builtIn = spec.manifests === undefined;
    const credentials =
      router && builtIn ? await createServiceCredentials({ runId, database: () => router.connection, reader: true, recorder, teardown }) : undefined;
    const reader = credentials?.reader;
    const readerUrl = router && reader ? databaseUrl(applicationConnection({ ...router.connection, user: reader.role, password: reader.password }, appHost)) : undefined;
    const k8s = await provisionKubernetes(spec, {
      runId,
      clock: env.clock,
      ledger: env.ledger,
      teardown,
      recorder,
      signal: env.signal,
      scenarioFile: env.scenarioFile,
      databaseUrl: router ? databaseUrl(applicationConnection(router.connection, appHost)) : undefined,
      ...(readerUrl ? { readerDatabaseUrl: readerUrl } : {}),
    });
    if (!credentials) return { k8s };
    const service = new KubernetesService(k8s.api, k8s.namespace, credentials.token, await runningRelease(k8s.api, k8s.namespace));
    const podsHere = await detectLocalContainers(service, k8s.api, k8s.namespace);
    recorder.event(
      'service',
      `${service.description}; API token ${credentials.tokenName} created, reader role ${reader?.role ?? '-'}` + (podsHere ? '; its API containers run on this machine' : ''),
      { tokenName: credentials.tokenName, apiContainersHere: podsHere },
    );
    return { k8s, service };
  },
};
