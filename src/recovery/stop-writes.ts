import type { DrillContext } from '../engine/drill-context.js';
import { StepFailedError } from '../engine/errors.js';
import { withClient } from '../targets/postgres/with-client.js';
import { writesRefused } from './write-probe.js';

/**
 * Runbook "Stop write operations" and "Enable read-only mode", database side: the application's
 * writer stops, the instance defaults every new transaction to read-only, and open write sessions
 * are terminated. Postcondition: a write is refused. `resume-writes` undoes it.
 */
export async function stopWrites(ctx: DrillContext): Promise<Record<string, unknown>> {
  await ctx.writer.pause();
  const instance = ctx.router.current;
  const terminated = await withClient(ctx.router.connection, async (c) => {
    await c.query('alter system set default_transaction_read_only = on');
    await c.query('select pg_reload_conf()');
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
