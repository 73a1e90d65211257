import type { DrillContext } from '../engine/drill-context.js';
import { SERVICE_ACCOUNT_LEAK_DEFAULTS } from '../scenario/breach-schema.js';
import type { Fault } from '../scenario/schema.js';
import { deleteSecret, issueBoundToken, issueLegacyToken, issuePodBoundToken, issueUnboundToken, type IssuedToken } from '../targets/kubernetes/service-account-tokens.js';
import { kubeApiTargetOf, KubeApiTokenUse } from '../workload/attacks/kube-api-token-use.js';
import type { Leak } from './leak.js';

type CredentialLeak = Extract<Fault, { type: 'credential-leak' }>;

const WHAT = { bound: 'bound service-account token', legacy: 'legacy service-account token', unbound: 'unbound service-account token', pod: 'pod-bound service-account token' } as const;

/**
 * kind k8s-service-account-token: tokens of the service's ServiceAccount in the drill's namespace
 * (only a drill target): a TokenRequest bound to a Secret the drill creates and/or a legacy token
 * Secret, each registered as a secret of the run the moment the drill reads it, each used by an
 * attacker of its own against the kube-apiserver. Their Secrets are deleted at teardown.
 */
export async function leakServiceAccountTokens(ctx: DrillContext, fault: CredentialLeak): Promise<Leak[]> {
  const { api, namespace } = ctx.k8s;
  await ctx.k8s.requireDrillTarget('credential-leak k8s-service-account-token (creates token Secrets of a service account)');
  const account = fault.serviceAccount ?? SERVICE_ACCOUNT_LEAK_DEFAULTS.serviceAccount;
  const target = kubeApiTargetOf(api.kc, namespace, account);
  const { kubeconfigPath: kubeconfig, context } = ctx.k8s.cluster;
  // In the ledger before it exists: after kill -9, `drill cleanup` or the next run deletes it (a legacy token never expires).
  const created: string[] = [];
  const owner = {
    runId: ctx.runId,
    creating: (name: string) => {
      ctx.ledger.record({ kind: 'k8s-token-secret', kubeconfig, context, namespace, name, runId: ctx.runId });
      created.push(name);
    },
  };
  const issued: IssuedToken[] = [];
  const removeSecret = (name: string) => deleteSecret(api, namespace, name).catch(() => undefined);
  // An unbound or pod-bound token has nothing to delete: it dies with the drill's namespace (its account, its pod) at teardown, or expires within the hour.
  const remove = (token: IssuedToken) => async () => {
    if (token.secret) await removeSecret(token.secret);
  };
  try {
    for (const kind of fault.tokens ?? SERVICE_ACCOUNT_LEAK_DEFAULTS.tokens) {
      const register = (value: string) => ctx.recorder.secrets.register(value, `the leaked ${WHAT[kind]} of ${namespace}/${account}`);
      const token =
        kind === 'bound'
          ? await issueBoundToken(api, namespace, account, owner, register)
          : kind === 'unbound'
            ? await issueUnboundToken(api, namespace, account, register)
            : kind === 'pod'
              ? await issuePodBoundToken(api, namespace, account, register)
              : await issueLegacyToken(api, namespace, account, owner, register, { timeoutMs: 30_000, signal: ctx.signal });
      issued.push(token);
    }
  } catch (error) {
    // Every Secret begun, also one whose token was never issued.
    await Promise.all(created.map(removeSecret));
    throw error;
  }
  return issued.map((token) => ({
    name: token.name,
    ...credentialIdOf(token.value),
    what: `the ${WHAT[token.kind]} of service account ${namespace}/${account} (${token.secret ? `Secret ${token.secret}` : token.pod ? `bound to pod ${token.pod}` : 'bound to no object'})`,
    ...(token.pod ? { boundPod: token.pod } : {}),
    value: token.value,
    use: new KubeApiTokenUse(target, token.value, fault.attacker.timeout),
    remove: remove(token),
  }));
}

/**
 * A bound token's `jti` claim as the kube-apiserver's audit log names it (`credential-id`:
 * `JTI=<jti>`); legacy tokens have none. Read from the token's payload without verifying it: the
 * apiserver issued it to the drill a moment ago.
 */
function credentialIdOf(token: string): { credentialId?: string } {
  try {
    const claims = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')) as { jti?: unknown };
    return typeof claims.jti === 'string' && claims.jti.length > 0 ? { credentialId: `JTI=${claims.jti}` } : {};
  } catch {
    return {};
  }
}
