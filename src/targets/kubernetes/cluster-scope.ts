import { CoreV1Api, CustomObjectsApi, type KubeConfig, type KubernetesObject, type V1APIResourceList } from '@kubernetes/client-node';
import createDebug from 'debug';
import { EnvironmentError, InputError } from '../../engine/errors.js';
import { apiMessage, apiStatus } from './kube-api.js';

const debug = createDebug('drill:k8s');

export type KindScope = 'namespaced' | 'cluster' | 'not-served';

/**
 * Whether the cluster serves a kind as namespaced, asked of API discovery (`/api/v1`,
 * `/apis/<group>/<version>`), as kubectl does. A fixed list of cluster-wide kinds misses every
 * kind a CustomResourceDefinition adds with `scope: Cluster`; discovery knows them all.
 */
export class KindScopes {
  private readonly lists = new Map<string, Promise<V1APIResourceList | undefined>>();

  constructor(private readonly kc: KubeConfig) {}

  async scopeOf(apiVersion: string, kind: string): Promise<KindScope> {
    const list = await this.resources(apiVersion);
    // Subresources (`deployments/status`) repeat the kind; the resource itself has no slash.
    const resource = list?.resources.find((r) => r.kind === kind && !r.name.includes('/'));
    if (!resource) return 'not-served';
    return resource.namespaced ? 'namespaced' : 'cluster';
  }

  private resources(apiVersion: string): Promise<V1APIResourceList | undefined> {
    let list = this.lists.get(apiVersion);
    if (!list) {
      list = this.discover(apiVersion);
      this.lists.set(apiVersion, list);
    }
    return list;
  }

  private async discover(apiVersion: string): Promise<V1APIResourceList | undefined> {
    const [group, version] = apiVersion.includes('/') ? apiVersion.split('/', 2) : ['', apiVersion];
    try {
      const list = group
        ? await this.kc.makeApiClient(CustomObjectsApi).getAPIResources({ group: group!, version: version! })
        : version === 'v1'
          ? await this.kc.makeApiClient(CoreV1Api).getAPIResources()
          : undefined;
      debug('discovery %s: %d resources', apiVersion, list?.resources.length ?? 0);
      return list;
    } catch (error) {
      // The group/version is not served at all: no kind of it is, either.
      if (apiStatus(error) === 404) return undefined;
      throw new EnvironmentError('K8S_DISCOVERY_FAILED', `cannot ask the apiserver's API discovery about ${apiVersion}: ${apiMessage(error)}`, { cause: error });
    }
  }
}

/**
 * In a cluster the drill did not create, only objects of namespaced kinds may be created: anything
 * else would reach beyond the drill's namespace into someone else's cluster. Asked before anything
 * is created; refuses with exit 2 and nothing created from the manifests.
 */
export async function refuseClusterScopedKinds(kc: KubeConfig, objects: readonly KubernetesObject[], options: { namespace: string; source: string }): Promise<void> {
  const scopes = new KindScopes(kc);
  for (const obj of objects) {
    const what = `${obj.kind} ${obj.metadata?.name} (${obj.apiVersion})`;
    const scope = await scopes.scopeOf(obj.apiVersion!, obj.kind!);
    if (scope === 'cluster') {
      throw new InputError(
        'NOT_A_DRILL_TARGET',
        `targets.kubernetes.manifests (${options.source}): ${what} is cluster-scoped (API discovery says it is not namespaced); ` +
          `in a cluster the drill did not create it deploys only into namespace ${options.namespace}. ` +
          'Remove it, or use a cluster the drill starts (provider: local or kind). Nothing was created from the manifests.',
      );
    }
    if (scope === 'not-served') {
      throw new InputError(
        'MANIFEST_KIND_UNKNOWN',
        `targets.kubernetes.manifests (${options.source}): the cluster does not serve ${what}, so the drill cannot tell whether it stays ` +
          'in its namespace; install what defines it (its CustomResourceDefinition) or remove it. Nothing was created from the manifests.',
      );
    }
  }
}
