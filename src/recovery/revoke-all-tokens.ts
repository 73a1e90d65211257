import { createToken, revokeAllTokens as revokeEveryToken, revokeToken } from '../../sut/truststream/src/admin/index.js';
import type { DrillContext } from '../engine/drill-context.js';
import { StepFailedError } from '../engine/errors.js';
import type { RecoveryStep } from '../scenario/schema.js';
import { withClient } from '../targets/postgres/with-client.js';

type RevokeAllTokens = Extract<RecoveryStep, { step: 'revoke-all-tokens' }>;

/**
 * Runbook "Revoke all API tokens" (`revoke-all-tokens.sh --emergency`): every active token of the
 * service's token table revoked in one statement, so the next request with any of them is refused
 * on every instance (the service looks tokens up on each request, without a cache). With
 * `reissue`, the legitimate clients (the drill's probes, canary and smoke) get a new token, as the
 * incident response hands out fresh credentials; without it they stay locked out with the attacker.
 * Postcondition: no token that existed before the step is active.
 */
export async function revokeAllTokens(ctx: DrillContext, step: RevokeAllTokens): Promise<Record<string, unknown>> {
  const service = ctx.service;
  if (step.reissue && !service.replaceToken) {
    throw new StepFailedError('TOKEN_REISSUE_UNSUPPORTED', `${service.description} cannot give the drill's clients a new token; use reissue: false, or a target whose service supports it (targets.service)`);
  }
  const database = () => ctx.router.connection;
  const { revoked, revokedAt, newestBefore } = await withClient(database(), async (c) => {
    const before = await c.query<{ newest: string | null }>('select max(id)::text as newest from api_tokens');
    const names = await revokeEveryToken(c);
    const at = await c.query<{ now: Date }>('select clock_timestamp() as now');
    return { revoked: names, revokedAt: at.rows[0]!.now.toISOString(), newestBefore: before.rows[0]?.newest ?? '0' };
  });
  let reissued: string | undefined;
  if (step.reissue) {
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
  const stillActive = await withClient(database(), async (c) =>
    (await c.query<{ name: string }>('select name from api_tokens where revoked_at is null and id <= $1::bigint order by name', [newestBefore])).rows.map((r) => r.name),
  );
  if (stillActive.length > 0) {
    throw new StepFailedError('TOKENS_STILL_ACTIVE', `tokens issued before the revocation are still active: ${stillActive.join(', ')}`);
  }
  ctx.recorder.event('tokens-revoked', `${revoked.length} API token(s) revoked${reissued ? `; new token ${reissued} issued to the drill's clients` : '; no token reissued: legitimate clients are locked out too'}`, {
    revoked,
    revokedAt,
    ...(reissued ? { reissued } : {}),
  });
  return { emergency: step.emergency, revoked, revokedAt, ...(reissued ? { reissued } : { reissued: false }) };
}
