import { createToken, revokeToken } from '../../sut/truststream/src/admin/index.js';
import type { DrillContext } from '../engine/drill-context.js';
import type { Fault } from '../scenario/schema.js';
import { withClient } from '../targets/postgres/with-client.js';
import { ApiTokenUse } from '../workload/attacks/api-token-use.js';
import type { Leak } from './leak.js';

type CredentialLeak = Extract<Fault, { type: 'credential-leak' }>;

/**
 * kind api-token: a new bearer token in the service's token table, as valid as any other (the
 * service has no per-token grants), registered as a secret in the callback that receives it.
 */
export async function leakApiToken(ctx: DrillContext, fault: CredentialLeak): Promise<Leak> {
  const service = ctx.service;
  const database = () => ctx.router.connection;
  const name = `leaked-${ctx.runId}`.replace(/[^A-Za-z0-9._:-]/g, '-').slice(0, 63);
  const token = await withClient(database(), async (c) => {
    const created = await createToken(c, name);
    ctx.recorder.secrets.register(created.token, `the leaked API token ${name}`);
    return created.token;
  });
  return {
    name,
    what: `API token ${name}`,
    value: token,
    use: new ApiTokenUse(service, token, fault.attacker.path, fault.attacker.timeout),
    // Revoked by the runbook or still active: either way not usable after the drill.
    remove: () => withClient(database(), (c) => revokeToken(c, name)).then(() => undefined, () => undefined),
  };
}
