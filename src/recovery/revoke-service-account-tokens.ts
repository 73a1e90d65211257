import type { DrillContext } from '../engine/drill-context.js';
import { StepFailedError } from '../engine/errors.js';
import type { RecoveryStep } from '../scenario/schema.js';
import { requireOwnControlPlane, rotateSigningKey, type SigningKeyRotationOutput } from './rotate-signing-key.js';
import { deleteSecret, recreateServiceAccount, serviceAccountTokenSecrets } from '../targets/kubernetes/service-account-tokens.js';

type RevokeAllTokens = Extract<RecoveryStep, { step: 'revoke-all-tokens' }>;

export interface ServiceAccountRevocation {
  deletedSecrets: Array<{ name: string; kind: 'bound' | 'legacy'; serviceAccount: string }>;
  recreated: Array<{ serviceAccount: string; oldUid?: string; newUid: string }>;
  /** With rotateSigningKey: the new key, the restarts and the token checks (rotate-signing-key.ts). */
  signingKey?: SigningKeyRotationOutput;
}

/**
 * The Kubernetes part of "Revoke all API tokens" in the drill's namespace: delete the Secrets bound
 * tokens are bound to and (all) the legacy token Secrets, then (all) recreate the service accounts
 * they belong to, so tokens issued for the old accounts are refused too. The kube-apiserver keeps
 * accepting a token it authenticated in the last ~10 s (its token cache): this step does not wait
 * for that, the attacker's uses measure it. Postcondition: none of the deleted Secrets is left,
 * every recreated account has a new uid. With rotateSigningKey (only on the drill's own control
 * plane, checked before anything is deleted), then the signing key is rotated: every token the
 * apiserver issued is refused, also those bound to objects that survive the deletions.
 */
export async function revokeServiceAccountTokens(ctx: DrillContext, step: Pick<RevokeAllTokens, 'serviceAccountTokens'> & Partial<Pick<RevokeAllTokens, 'rotateSigningKey'>>): Promise<ServiceAccountRevocation> {
  const { api, namespace } = ctx.k8s;
  await ctx.k8s.requireDrillTarget('revoke-all-tokens (deletes service-account token Secrets and recreates service accounts)');
  // Refused before anything is deleted.
  if (step.rotateSigningKey) requireOwnControlPlane(ctx);
  const all = step.serviceAccountTokens === 'all';
  const found = (await serviceAccountTokenSecrets(api, namespace)).filter((s) => all || s.kind === 'bound');
  for (const secret of found) await deleteSecret(api, namespace, secret.name);
  const recreated: ServiceAccountRevocation['recreated'] = [];
  if (all) {
    for (const account of [...new Set(found.map((s) => s.serviceAccount))].sort()) {
      recreated.push({ serviceAccount: account, ...(await recreateServiceAccount(api, namespace, account, { timeoutMs: 30_000 })) });
    }
  }
  const names = new Set(found.map((s) => s.name));
  const left = (await serviceAccountTokenSecrets(api, namespace)).filter((s) => names.has(s.name));
  if (left.length > 0) throw new StepFailedError('TOKEN_SECRETS_LEFT', `token Secrets still present after their deletion in ${namespace}: ${left.map((s) => s.name).join(', ')}`);
  // After the accounts were recreated: the step's own token, issued now, is one only the new key can void.
  const signingKey = step.rotateSigningKey ? await rotateSigningKey(ctx) : undefined;
  return { deletedSecrets: found, recreated, ...(signingKey ? { signingKey } : {}) };
}
