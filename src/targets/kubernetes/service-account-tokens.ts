import { randomBytes } from 'node:crypto';
import type { V1BoundObjectReference } from '@kubernetes/client-node';
import { sleep } from '../../engine/clock.js';
import { EnvironmentError } from '../../engine/errors.js';
import { isNotFound, type KubeApi } from './kube-api.js';
import { podToBind } from './pod-to-bind.js';
import { RUN_LABEL, runLabelValue } from './manifest-set.js';

/**
 * Service-account tokens as a credential of the service (runbook Scenario 3): a TokenRequest bound
 * to a Secret the drill creates, and a legacy `kubernetes.io/service-account-token` Secret the
 * controller manager fills. Both are marked by label, so the revoke step finds what to delete.
 */

/** On the Secret a bound token is bound to: the service account's name (the revoke step deletes these). */
export const TOKEN_BINDING_LABEL = 'drill.dev/token-binding';
/** The annotation that ties a legacy token Secret to its service account (set by Kubernetes' convention). */
export const SERVICE_ACCOUNT_NAME_ANNOTATION = 'kubernetes.io/service-account.name';
export const LEGACY_TOKEN_TYPE = 'kubernetes.io/service-account-token';

export type ServiceAccountTokenKind = 'bound' | 'legacy' | 'unbound' | 'pod';

/** Which run creates the Secret (labelled drill.dev/run), told its name before it exists so a killed drill's Secret can be reaped. */
export interface SecretOwner {
  runId: string;
  creating(name: string): void;
}

export interface IssuedToken {
  kind: ServiceAccountTokenKind;
  /** What the journal calls it: its Secret's name, or (unbound) a name of its own. */
  name: string;
  /** The Secret that holds (legacy) or anchors (bound) the token; none for an unbound or pod-bound one. */
  secret?: string;
  /** The pod a pod-bound token is bound to (it dies with that pod). */
  pod?: string;
  value: string;
}

/** A TokenRequest for the account (bound to `boundObjectRef` when given), registered as a secret of the run the moment it is read. */
async function requestToken(
  api: KubeApi,
  namespace: string,
  serviceAccount: string,
  register: (token: string) => void,
  options: { boundObjectRef?: V1BoundObjectReference; expirationSeconds?: number } = {},
): Promise<string> {
  const request = await api.core.createNamespacedServiceAccountToken({
    name: serviceAccount,
    namespace,
    body: { spec: { audiences: [], expirationSeconds: options.expirationSeconds ?? 3600, ...(options.boundObjectRef ? { boundObjectRef: options.boundObjectRef } : {}) } },
  });
  const value = request.status?.token;
  if (!value) throw new EnvironmentError('TOKEN_NOT_ISSUED', `the TokenRequest for service account ${serviceAccount} in ${namespace} returned no token`);
  register(value);
  return value;
}

/** A bound token: an Opaque Secret to bind to, then a TokenRequest for the account bound to it (dies with the Secret). */
export async function issueBoundToken(api: KubeApi, namespace: string, serviceAccount: string, owner: SecretOwner, register: (token: string) => void): Promise<IssuedToken> {
  const name = `drill-token-binding-${randomBytes(4).toString('hex')}`;
  owner.creating(name);
  const secret = await api.core.createNamespacedSecret({
    namespace,
    body: { metadata: { name, labels: { [TOKEN_BINDING_LABEL]: serviceAccount, [RUN_LABEL]: runLabelValue(owner.runId) } }, type: 'Opaque', data: {} },
  });
  const value = await requestToken(api, namespace, serviceAccount, register, { boundObjectRef: { apiVersion: 'v1', kind: 'Secret', name, uid: secret.metadata!.uid } });
  return { kind: 'bound', name, secret: name, value };
}

/**
 * An unbound token: a TokenRequest bound to no object (one hour). No Secret carries or anchors it,
 * so deleting token Secrets cannot find it; it dies with its account (recreated only when the
 * account had token Secrets), when it expires, or with the signing key that signed it.
 */
export async function issueUnboundToken(api: KubeApi, namespace: string, serviceAccount: string, register: (token: string) => void, expirationSeconds = 3600): Promise<IssuedToken> {
  const value = await requestToken(api, namespace, serviceAccount, register, { expirationSeconds });
  return { kind: 'unbound', name: `drill-unbound-token-${randomBytes(4).toString('hex')}`, value };
}

/**
 * A pod-bound token: a TokenRequest bound to one running pod of the account (what the kubelet
 * mounts into a pod: the token of a compromised pod), chosen by `podToBind`. The token dies when
 * that pod is gone (after the apiserver's authentication cache), or with the account.
 */
export async function issuePodBoundToken(api: KubeApi, namespace: string, serviceAccount: string, register: (token: string) => void): Promise<IssuedToken> {
  const pod = await podToBind(api, namespace, serviceAccount);
  const name = pod.metadata!.name!;
  const value = await requestToken(api, namespace, serviceAccount, register, { boundObjectRef: { apiVersion: 'v1', kind: 'Pod', name, uid: pod.metadata!.uid } });
  return { kind: 'pod', name: `drill-pod-token-${randomBytes(4).toString('hex')}`, pod: name, value };
}

/**
 * A legacy token: a Secret of type kubernetes.io/service-account-token naming the account; the
 * controller manager's token controller writes a non-expiring token into it (waited for here).
 */
export async function issueLegacyToken(
  api: KubeApi,
  namespace: string,
  serviceAccount: string,
  owner: SecretOwner,
  register: (token: string) => void,
  options: { timeoutMs: number; signal?: AbortSignal },
): Promise<IssuedToken> {
  const name = `drill-legacy-token-${randomBytes(4).toString('hex')}`;
  owner.creating(name);
  await api.core.createNamespacedSecret({
    namespace,
    body: {
      metadata: { name, labels: { [RUN_LABEL]: runLabelValue(owner.runId) }, annotations: { [SERVICE_ACCOUNT_NAME_ANNOTATION]: serviceAccount } },
      type: LEGACY_TOKEN_TYPE,
    },
  });
  const deadline = Date.now() + options.timeoutMs;
  for (;;) {
    const encoded = (await api.core.readNamespacedSecret({ name, namespace })).data?.token;
    if (encoded) {
      const value = Buffer.from(encoded, 'base64').toString('utf8');
      register(value);
      return { kind: 'legacy', name, secret: name, value };
    }
    if (Date.now() > deadline) {
      throw new EnvironmentError(
        'TOKEN_NOT_ISSUED',
        `the legacy token Secret ${name} in ${namespace} got no token within ${options.timeoutMs / 1000}s; is the controller manager running with --service-account-private-key-file (its token controller fills these)?`,
      );
    }
    await sleep(100, options.signal);
  }
}

/** Deletes a Secret; already gone is fine. */
export async function deleteSecret(api: KubeApi, namespace: string, name: string): Promise<void> {
  await api.core.deleteNamespacedSecret({ name, namespace }).catch((error: unknown) => {
    if (!isNotFound(error)) throw error;
  });
}

export interface TokenSecret {
  name: string;
  kind: Exclude<ServiceAccountTokenKind, 'unbound' | 'pod'>;
  serviceAccount: string;
}

/** The Secrets that carry or anchor tokens of service accounts in the namespace: bound-token anchors (by label) and legacy token Secrets. */
export async function serviceAccountTokenSecrets(api: KubeApi, namespace: string): Promise<TokenSecret[]> {
  const { items } = await api.core.listNamespacedSecret({ namespace });
  return items.flatMap((s): TokenSecret[] => {
    const name = s.metadata?.name ?? '';
    const bound = s.metadata?.labels?.[TOKEN_BINDING_LABEL];
    if (bound) return [{ name, kind: 'bound' as const, serviceAccount: bound }];
    const legacy = s.type === LEGACY_TOKEN_TYPE ? s.metadata?.annotations?.[SERVICE_ACCOUNT_NAME_ANNOTATION] : undefined;
    return legacy ? [{ name, kind: 'legacy' as const, serviceAccount: legacy }] : [];
  });
}

/**
 * Deletes the service account and creates it again: a new uid, so every token issued for the old
 * one is refused (bound and legacy tokens both name the account's uid, which the apiserver checks).
 * The service account controller recreates `default` by itself; either way the account is back
 * with another uid (its new uid is returned).
 */
export async function recreateServiceAccount(api: KubeApi, namespace: string, name: string, options: { timeoutMs: number }): Promise<{ oldUid?: string; newUid: string }> {
  const old = await api.core.readNamespacedServiceAccount({ name, namespace }).catch((error: unknown) => {
    if (isNotFound(error)) return undefined;
    throw error;
  });
  const oldUid = old?.metadata?.uid;
  if (old) {
    await api.core.deleteNamespacedServiceAccount({ name, namespace, body: { preconditions: { uid: oldUid } } }).catch((error: unknown) => {
      if (!isNotFound(error) && (error as { code?: number }).code !== 409) throw error;
    });
  }
  const deadline = Date.now() + options.timeoutMs;
  for (;;) {
    await api.core.createNamespacedServiceAccount({ namespace, body: { metadata: { name, ...(old?.metadata?.labels ? { labels: old.metadata.labels } : {}) } } }).catch((error: unknown) => {
      if ((error as { code?: number }).code !== 409) throw error;
    });
    const now = await api.core.readNamespacedServiceAccount({ name, namespace }).catch(() => undefined);
    const newUid = now?.metadata?.uid;
    if (newUid && newUid !== oldUid) return { ...(oldUid ? { oldUid } : {}), newUid };
    if (Date.now() > deadline) throw new EnvironmentError('SERVICE_ACCOUNT_NOT_RECREATED', `service account ${name} in ${namespace} still had its old uid ${oldUid} ${options.timeoutMs / 1000}s after its deletion`);
    await sleep(100);
  }
}
