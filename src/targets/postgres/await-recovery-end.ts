import { EnvironmentError } from '../../engine/errors.js';
import type { PgInstance } from './types.js';
import { withClient } from './with-client.js';

/**
 * Waits until a restored server has finished archive recovery. With hot standby it accepts
 * connections as soon as it is consistent, before replay ends; a target past the end of the
 * archive only shows when the server then shuts itself down, which this turns into an error
 * carrying its log (the caller names the cause).
 */
export async function awaitRecoveryEnd(instance: PgInstance): Promise<void> {
  for (;;) {
    if (!(await instance.isRunning())) {
      const log = instance.logTail ? await instance.logTail(12) : '(log out of reach)';
      throw new EnvironmentError('PG_RECOVERY_FAILED', `"${instance.name}" stopped during recovery: ${log}`);
    }
    const inRecovery = await withClient({ ...instance.connection, database: 'postgres' }, async (c) =>
      (await c.query<{ r: boolean }>('select pg_is_in_recovery() as r')).rows[0]!.r,
    ).catch(() => true);
    if (!inRecovery) return;
    await new Promise((r) => setTimeout(r, 100));
  }
}
