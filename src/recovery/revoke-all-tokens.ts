import { randomBytes } from 'node:crypto';
import { createToken, revokeAllTokens as revokeEveryToken, revokeToken } from '../../sut/truststream/src/admin/index.js';
import type { DrillContext } from '../engine/drill-context.js';
import { StepFailedError } from '../engine/errors.js';
import { requireDrillTarget } from '../engine/require-drill-target.js';
import type { RecoveryStep } from '../scenario/schema.js';
import { changeRolePassword, roleSessions, serviceRoles, terminateRoleSessions } from '../targets/postgres/service-roles.js';
import { withClient } from '../targets/postgres/with-client.js';
import { requireOwnControlPlane } from './rotate-signing-key.js';
import { revokeServiceAccountTokens, type ServiceAccountRevocation } from './revoke-service-account-tokens.js';

type RevokeAllTokens = Extract<RecoveryStep, { step: 'revoke-all-tokens' }>;

/**
 * Runbook "Revoke all API tokens" (`revoke-all-tokens.sh --emergency`): every active token of the
 * service's token table revoked in one statement, so the next request with any of them is refused
 * on every instance (the service looks tokens up on each request, without a cache); with
 * `databaseRoles`, a new password for every login role the drill created as a credential of the
 * service and, with `terminateSessions`, their sessions ended (a new password ends none). With
 * `reissue`, the legitimate clients (the drill's probes, canary and smoke) get a new token, as the
 * incident response hands out fresh credentials; without it they stay locked out with the attacker.
 * On Kubernetes (targets.kubernetes) it first revokes the service-account tokens of the drill's
 * namespace (revoke-service-account-tokens.ts: token Secrets deleted, accounts recreated).
 * Postcondition: no token that existed before the step is active, and no session of those roles
 * is left when they were to be ended.
 */
export async function revokeAllTokens(ctx: DrillContext, step: RevokeAllTokens): Promise<Record<string, unknown>> {
  // Every token of the database, not only the drill's: only where the drill may break things.
  requireDrillTarget(ctx, 'revoke-all-tokens (revokes every API token and changes role passwords)');
  // Before any token is touched: a restart of kube-apiserver only on the drill's own control plane.
  if (step.rotateSigningKey) requireOwnControlPlane(ctx);
  const database = () => ctx.router.connection;
  // Without the service there is no legitimate API client to give a token to.
  const service = ctx.has('service') ? ctx.service : undefined;
  // Nothing to reissue when the API tokens are left alone.
  const reissue = step.reissue && step.apiTokens;
  if (reissue && service && !service.replaceToken) {
    throw new StepFailedError('TOKEN_REISSUE_UNSUPPORTED', `${service.description} cannot give the drill's clients a new token; use reissue: false, or a target whose service supports it (targets.service)`);
  }
  const kubernetes: ServiceAccountRevocation | undefined = ctx.has('k8s') ? await revokeServiceAccountTokens(ctx, step) : undefined;
  const { revoked, revokedAt, newestBefore, roles } = await withClient(database(), async (c) => {
    const before = await c.query<{ newest: string | null }>('select max(id)::text as newest from api_tokens');
    const names = step.apiTokens ? await revokeEveryToken(c) : [];
    const at = await c.query<{ now: Date }>('select clock_timestamp() as now');
    const rotated: Array<{ role: string; sessionsEnded?: number }> = [];
    if (step.databaseRoles) {
      for (const role of await serviceRoles(c)) {
        // Nobody gets this password: the role is shut, not handed to someone else.
        const password = randomBytes(24).toString('hex');
        ctx.recorder.secrets.register(password, `the new password of the database role ${role}`);
        await changeRolePassword(c, role, password);
        rotated.push({ role, ...(step.terminateSessions ? { sessionsEnded: await terminateRoleSessions(c, role) } : {}) });
      }
    }
    return { revoked: names, revokedAt: at.rows[0]!.now.toISOString(), newestBefore: before.rows[0]?.newest ?? '0', roles: rotated };
  });
  let reissued: string | undefined;
  if (reissue && service) {
    const name = service.tokenName ?? `drill-${ctx.runId}`.replace(/[^A-Za-z0-9._:-]/g, '-').slice(0, 63);
    // Registered before it exists, so a failure after the insert still revokes it.
    ctx.teardown.push(`revoke the reissued API token ${name}`, async () => {
      await withClient(database(), (c) => revokeToken(c, name)).catch(() => undefined);
    });
    const token = await withClient(database(), async (c) => {
      const created = await createToken(c, name);
      ctx.recorder.secrets.register(created.token, `the reissued API token ${name}`);
      return created.token;
    });
    service.replaceToken!(token);
    reissued = name;
  }
  const { stillActive, sessionsLeft } = await withClient(database(), async (c) => ({
    stillActive: !step.apiTokens ? [] : (await c.query<{ name: string }>('select name from api_tokens where revoked_at is null and id <= $1::bigint order by name', [newestBefore])).rows.map((r) => r.name),
    sessionsLeft: step.terminateSessions ? await sessionsOf(c, roles.map((r) => r.role)) : [],
  }));
  if (stillActive.length > 0) throw new StepFailedError('TOKENS_STILL_ACTIVE', `tokens issued before the revocation are still active: ${stillActive.join(', ')}`);
  if (sessionsLeft.length > 0) throw new StepFailedError('SESSIONS_STILL_OPEN', `sessions of revoked database roles are still open: ${sessionsLeft.join(', ')}`);
  const rolesText = roles.length > 0 ? `; new password for database role(s) ${roles.map((r) => r.role).join(', ')}${step.terminateSessions ? ', their sessions ended' : ', their open sessions left running'}` : '';
  const k8sText = kubernetes
    ? `; Kubernetes: ${kubernetes.deletedSecrets.length} token Secret(s) deleted (${kubernetes.deletedSecrets.map((s) => `${s.kind} ${s.name}`).join(', ') || 'none'})` +
      (step.serviceAccountTokens === 'all' ? `, service account(s) recreated: ${kubernetes.recreated.map((r) => r.serviceAccount).join(', ') || 'none'}` : ', legacy token Secrets and service accounts left as they were (bound-only)') +
      (kubernetes.signingKey
        ? `; service-account signing key rotated (key ${kubernetes.signingKey.generation}, ${kubernetes.signingKey.newKeyFingerprint}), kube-apiserver restarted (unreachable ${kubernetes.signingKey.apiserver.outageMs} ms) and ` +
          `kube-controller-manager restarted: a token issued before is ${kubernetes.signingKey.tokenIssuedBefore.after}, a fresh one ${kubernetes.signingKey.freshTokenUse}`
        : '')
    : '';
  ctx.recorder.event(
    'tokens-revoked',
    `${step.apiTokens ? `${revoked.length} API token(s) revoked` : 'API tokens left as they were'}${k8sText}${rolesText}${reissued ? `; new token ${reissued} issued to the drill's clients` : reissue || !step.apiTokens ? '' : '; no token reissued: legitimate API clients are locked out too'}`,
    { revoked, revokedAt, roles, ...(reissued ? { reissued } : {}), ...(kubernetes ? { kubernetes } : {}) },
  );
  return { emergency: step.emergency, revoked, revokedAt, roles, reissued: reissued ?? false, ...(kubernetes ? { kubernetes } : {}) };
}

/** `role (n)` for each role that still has sessions, once terminated backends have had a moment to go. */
async function sessionsOf(c: Parameters<typeof roleSessions>[0], roles: readonly string[]): Promise<string[]> {
  for (let waited = 0; ; waited += 50) {
    const left: string[] = [];
    for (const role of roles) {
      const n = await roleSessions(c, role);
      if (n > 0) left.push(`${role} (${n})`);
    }
    if (left.length === 0 || waited >= 5000) return left;
    await new Promise((r) => setTimeout(r, 50));
  }
}
