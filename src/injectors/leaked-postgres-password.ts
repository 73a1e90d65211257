import { randomBytes } from 'node:crypto';
import type { DrillContext } from '../engine/drill-context.js';
import { requireDrillTarget } from '../engine/require-drill-target.js';
import type { Fault } from '../scenario/schema.js';
import { createServiceRole, dropServiceRole } from '../targets/postgres/service-roles.js';
import { withClient } from '../targets/postgres/with-client.js';
import { PostgresLoginUse } from '../workload/attacks/postgres-login-use.js';
import type { Leak } from './leak.js';

type CredentialLeak = Extract<Fault, { type: 'credential-leak' }>;

/**
 * kind postgres-password: a login role of the service's (the grants the API needs), created by
 * the drill in the drill database with a generated password, registered as a secret before the
 * statement that sets it is sent. Removed (sessions ended, grants dropped) at teardown.
 */
export async function leakPostgresPassword(ctx: DrillContext, fault: CredentialLeak): Promise<Leak> {
  requireDrillTarget(ctx, 'credential-leak postgres-password (creates a login role)');
  const database = () => ctx.router.connection;
  const role = `drill_leaked_${randomBytes(4).toString('hex')}`;
  const password = randomBytes(24).toString('hex');
  ctx.recorder.secrets.register(password, `the leaked password of the database role ${role}`);
  const remove = () => withClient(database(), (c) => dropServiceRole(c, role)).then(() => undefined, () => undefined);
  try {
    await withClient(database(), (c) => createServiceRole(c, role, password));
  } catch (error) {
    await remove();
    throw error;
  }
  const { host, port, database: name } = database();
  return {
    name: role,
    what: `the password of database role ${role}`,
    value: password,
    use: new PostgresLoginUse({ host, port, database: name, user: role, password }, fault.attacker.timeout),
    remove,
  };
}
