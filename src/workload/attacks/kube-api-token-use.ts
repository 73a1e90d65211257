import { AuthenticationV1Api, CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { EnvironmentError } from '../../engine/errors.js';
import { apiStatus } from '../../targets/kubernetes/kube-api.js';
import { isLoopbackHost, type CredentialUse, type UseOutcome } from './credential-use.js';

export interface KubeApiTarget {
  /** The apiserver's URL (https://127.0.0.1:port) and how to trust it, copied from the drill's own kubeconfig cluster. */
  server: string;
  caData?: string;
  caFile?: string;
  skipTLSVerify: boolean;
  namespace: string;
  /** Who the token must authenticate as: system:serviceaccount:<namespace>:<name>. */
  username: string;
}

/**
 * The apiserver the drill's own kubeconfig reaches (and how to trust it), for a token of
 * `namespace`/`account`: the attacker's client and the revoke step's own token checks use it.
 */
export function kubeApiTargetOf(kc: KubeConfig, namespace: string, account: string): KubeApiTarget {
  const cluster = kc.getCurrentCluster();
  if (!cluster) throw new EnvironmentError('K8S_UNREACHABLE', `the drill's kubeconfig has no current cluster (context ${kc.getCurrentContext()})`);
  return {
    server: cluster.server,
    ...(cluster.caData ? { caData: cluster.caData } : {}),
    ...(cluster.caFile ? { caFile: cluster.caFile } : {}),
    skipTLSVerify: cluster.skipTLSVerify,
    namespace,
    username: `system:serviceaccount:${namespace}:${account}`,
  };
}

function withTimeout<T>(call: Promise<T>, ms: number, signal: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
    const onAbort = () => reject(new Error('stopped'));
    signal.addEventListener('abort', onAbort, { once: true });
    call.then(resolve, reject).finally(() => {
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
    });
  });
}

/**
 * A leaked service-account token used as its thief would, from a client of its own (a kubeconfig
 * holding only the token, not the drill's identity): "who am I" (SelfSubjectReview, which every
 * authenticated identity may ask), then list pods in the namespace. The review decides: answered
 * as the token's account, allowed; 401 (or 403), rejected; anything else proves neither. The list
 * is recorded beside it (a service account without RBAC gets 403 there: authenticated, not
 * authorized, which says nothing about revocation).
 */
export class KubeApiTokenUse implements CredentialUse {
  private readonly auth: AuthenticationV1Api;
  private readonly core: CoreV1Api;

  constructor(
    private readonly target: KubeApiTarget,
    token: string,
    private readonly timeoutMs: number,
  ) {
    const kc = new KubeConfig();
    kc.loadFromOptions({
      clusters: [{ name: 'target', server: target.server, skipTLSVerify: target.skipTLSVerify, ...(target.caData ? { caData: target.caData } : {}), ...(target.caFile ? { caFile: target.caFile } : {}) }],
      users: [{ name: 'attacker', token }],
      contexts: [{ name: 'attacker', cluster: 'target', user: 'attacker' }],
      currentContext: 'attacker',
    });
    this.auth = kc.makeApiClient(AuthenticationV1Api);
    this.core = kc.makeApiClient(CoreV1Api);
  }

  get description(): string {
    return `SelfSubjectReview (who am I) and list pods in ${this.target.namespace} on the kube-apiserver`;
  }

  async use(signal: AbortSignal): Promise<UseOutcome> {
    const host = new URL(this.target.server).hostname.replace(/^\[|\]$/g, '');
    const endpoint = `kube-apiserver ${new URL(this.target.server).host}`;
    if (!isLoopbackHost(host)) return { outcome: 'error', endpoint, error: `${endpoint} is not on loopback: not contacted` };
    let username: string | undefined;
    try {
      const review = await withTimeout(this.auth.createSelfSubjectReview({ body: { apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' } }), this.timeoutMs, signal);
      username = review.status?.userInfo?.username;
    } catch (error) {
      const status = apiStatus(error);
      if (status === 401 || status === 403) return { outcome: 'rejected', status, endpoint };
      return { outcome: 'error', endpoint, ...(status ? { status } : {}), error: error instanceof Error ? error.message : String(error) };
    }
    if (username !== this.target.username) {
      return { outcome: 'error', status: 201, endpoint, error: `authenticated as ${username ?? 'nobody'}, not ${this.target.username}` };
    }
    const listed = await withTimeout(this.core.listNamespacedPod({ namespace: this.target.namespace }), this.timeoutMs, signal).then(
      (list) => `list pods in ${this.target.namespace}: ${list.items.length} pod(s)`,
      (error: unknown) => `list pods in ${this.target.namespace}: ${apiStatus(error) === 403 ? 'HTTP 403 (authenticated, not authorized)' : `HTTP ${apiStatus(error) ?? 'no answer'}`}`,
    );
    return { outcome: 'allowed', status: 201, endpoint, detail: listed };
  }

  async close(): Promise<void> {}
}
