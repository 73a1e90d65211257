import { AuthorizationV1Api, CoreV1Api, KubeConfig, RbacAuthorizationV1Api } from '@kubernetes/client-node';
import { EnvironmentError } from '../../engine/errors.js';
import { isNotFound, type KubeApi } from './kube-api.js';
import { RUN_LABEL, runLabelValue } from './manifest-set.js';

/** Marks the break-glass objects (the responder's ServiceAccount and its RoleBinding). */
export const EMERGENCY_ACCESS_LABEL = 'drill.dev/emergency-access';
/** When the grant ends (ISO time): the token's expiry; the binding is removed at teardown at the latest. */
export const EXPIRES_ANNOTATION = 'drill.dev/expires-at';

/** One authorization question in the drill's namespace ("may X delete pods?"). */
export interface AccessCheck {
  verb: string;
  resource: string;
  group?: string;
  subresource?: string;
}

/** An identity whose access is asked about: a user (or service account username) and its groups. */
export interface Identity {
  user: string;
  groups: string[];
}

export interface EmergencyGrant {
  serviceAccount: string;
  roleBinding: string;
  clusterRole: string;
  expiresAt: string;
}

export const describeCheck = (c: AccessCheck) => `${c.verb} ${c.group ? `${c.resource}.${c.group}` : c.resource}${c.subresource ? `/${c.subresource}` : ''}`;

/** The apiserver's decision for each check, as `identity` (SubjectAccessReview, asked with the drill's own access). */
export async function accessOf(api: KubeApi, namespace: string, identity: Identity, checks: readonly AccessCheck[]): Promise<Record<string, boolean>> {
  const authz = api.kc.makeApiClient(AuthorizationV1Api);
  const out: Record<string, boolean> = {};
  for (const check of checks) {
    const review = await authz.createSubjectAccessReview({
      body: {
        apiVersion: 'authorization.k8s.io/v1',
        kind: 'SubjectAccessReview',
        spec: {
          user: identity.user,
          groups: identity.groups,
          resourceAttributes: { namespace, verb: check.verb, resource: check.resource, ...(check.group ? { group: check.group } : {}), ...(check.subresource ? { subresource: check.subresource } : {}) },
        },
      },
    });
    out[describeCheck(check)] = review.status?.allowed === true;
  }
  return out;
}

/** The checks whose decision differs between two readings (`check: before → after`). */
export function accessChanges(before: Record<string, boolean>, after: Record<string, boolean>): string[] {
  return [...new Set([...Object.keys(before), ...Object.keys(after)])]
    .sort()
    .filter((k) => before[k] !== after[k])
    .map((k) => `${k}: ${before[k] === true ? 'allowed' : 'denied'} → ${after[k] === true ? 'allowed' : 'denied'}`);
}

/**
 * The break-glass grant: a ServiceAccount for the incident responder and a RoleBinding of
 * `clusterRole` to it in the namespace, both labelled with the run (the reaper deletes them after a
 * kill -9) and the expiry. `creating` is called before anything exists (the ledger entry).
 */
export async function grantEmergencyAccess(
  api: KubeApi,
  namespace: string,
  options: { responder: string; clusterRole: string; expiresAt: string; runId: string; creating: (grant: EmergencyGrant) => void },
): Promise<EmergencyGrant> {
  const grant: EmergencyGrant = { serviceAccount: options.responder, roleBinding: `drill-emergency-access-${options.responder}`, clusterRole: options.clusterRole, expiresAt: options.expiresAt };
  options.creating(grant);
  const metadata = (name: string) => ({
    name,
    labels: { [EMERGENCY_ACCESS_LABEL]: 'true', [RUN_LABEL]: runLabelValue(options.runId) },
    annotations: { [EXPIRES_ANNOTATION]: options.expiresAt },
  });
  await api.core.createNamespacedServiceAccount({ namespace, body: { metadata: metadata(grant.serviceAccount) } });
  await api.kc.makeApiClient(RbacAuthorizationV1Api).createNamespacedRoleBinding({
    namespace,
    body: {
      metadata: metadata(grant.roleBinding),
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: grant.clusterRole },
      subjects: [{ kind: 'ServiceAccount', name: grant.serviceAccount, namespace }],
    },
  });
  return grant;
}

/** A token for the responder's account that expires with the grant (the apiserver's minimum is 10 minutes). */
export async function issueResponderToken(api: KubeApi, namespace: string, serviceAccount: string, seconds: number, register: (token: string) => void): Promise<string> {
  const request = await api.core.createNamespacedServiceAccountToken({ name: serviceAccount, namespace, body: { spec: { audiences: [], expirationSeconds: Math.max(600, Math.ceil(seconds)) } } });
  const token = request.status?.token;
  if (!token) throw new EnvironmentError('TOKEN_NOT_ISSUED', `the TokenRequest for the incident responder ${namespace}/${serviceAccount} returned no token`);
  register(token);
  return token;
}

/** A CoreV1Api that holds only `token` and the apiserver's address and CA (nothing of the drill's own identity). */
export function clientWithToken(api: KubeApi, token: string): CoreV1Api {
  const cluster = api.kc.getCurrentCluster();
  if (!cluster) throw new EnvironmentError('K8S_UNREACHABLE', `the drill's kubeconfig has no current cluster (context ${api.kc.getCurrentContext()})`);
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'c', server: cluster.server, skipTLSVerify: cluster.skipTLSVerify, ...(cluster.caData ? { caData: cluster.caData } : {}), ...(cluster.caFile ? { caFile: cluster.caFile } : {}) }],
    users: [{ name: 'u', token }],
    contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
    currentContext: 'x',
  });
  return kc.makeApiClient(CoreV1Api);
}

/** Removes the grant (binding first: access ends with it); what is already gone is fine. */
export async function revokeEmergencyAccess(api: KubeApi, namespace: string, grant: Pick<EmergencyGrant, 'serviceAccount' | 'roleBinding'>): Promise<void> {
  await api.kc
    .makeApiClient(RbacAuthorizationV1Api)
    .deleteNamespacedRoleBinding({ name: grant.roleBinding, namespace })
    .catch((error: unknown) => {
      if (!isNotFound(error)) throw error;
    });
  await api.core.deleteNamespacedServiceAccount({ name: grant.serviceAccount, namespace }).catch((error: unknown) => {
    if (!isNotFound(error)) throw error;
  });
}
