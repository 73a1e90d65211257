import type { DrillContext } from '../engine/drill-context.js';
import { StepFailedError } from '../engine/errors.js';
import { withClient } from '../targets/postgres/with-client.js';
import { requireDrillTarget } from '../engine/require-drill-target.js';
import { setDatabaseReadOnly, writesRefused } from './write-probe.js';

/**
 * Runbook "Stop write operations" and "Enable read-only mode", database side: the application's
 * writer stops, the instance defaults every new transaction to read-only, and open write sessions
 * are terminated. Postcondition: a write is refused. `resume-writes` undoes it.
 */
export async function stopWrites(ctx: DrillContext): Promise<Record<string, unknown>> {
  requireDrillTarget(ctx, 'stop-writes');
  await ctx.writer.pause();
  const instance = ctx.router.current;
  const connection = ctx.router.connection;
  // Only the drill's own database turns read-only (not the whole server), and teardown lifts it
  // whatever happens, so no target is left read-only after the drill.
  ctx.teardown.push(`lift read-only mode of ${connection.database} on ${instance.name}`, async () => {
    if (await instance.isRunning().catch(() => false)) await setDatabaseReadOnly(connection, false).catch(() => undefined);
  });
  const terminated = await withClient(connection, async (c) => {
    await setDatabaseReadOnly(connection, true);
    const { rows } = await c.query<{ n: string }>(
      `select count(*) filter (where pg_terminate_backend(pid))::text as n from pg_stat_activity
        where datname = current_database() and pid <> pg_backend_pid() and backend_type = 'client backend'`,
    );
    return Number(rows[0]!.n);
  });
  if (!(await writesRefused(ctx.router.connection))) {
    throw new StepFailedError('WRITES_NOT_STOPPED', `${instance.name} still accepts writes after read-only mode was set`);
  }
  return { instance: instance.name, readOnly: true, sessionsTerminated: terminated, writerPaused: true };
}
