import type { DrillContext } from '../engine/drill-context.js';
import { DrillError, StepFailedError } from '../engine/errors.js';
import { setDatabaseReadOnly, writesRefused } from './write-probe.js';

/**
 * Points the application at the newest recovered instance (the runbook's "update application
 * connection strings" / "update DNS to point to restored instance") and lifts the write stop.
 * A service that follows its database (plain processes) is restarted against it and must be
 * healthy there; one that does not (Kubernetes) is moved by the scenario's own steps (Secret
 * patch, restart). Postcondition: the instance takes a write through the application's path.
 */
export async function switchWorkload(ctx: DrillContext): Promise<Record<string, unknown>> {
  const target = ctx.recoveredInstances.at(-1);
  if (!target) throw new StepFailedError('NOTHING_TO_SWITCH_TO', 'switch-workload needs a recovered instance; put a restore step before it');
  const from = ctx.router.current.name;
  const connection = { ...target.connection, database: 'drill' };
  // A restore that replayed past stop-writes carries its read-only mode: the switch lifts it.
  await setDatabaseReadOnly(connection, false);
  if (await writesRefused(connection).catch((error: unknown) => {
    throw new StepFailedError('SWITCH_TARGET_NOT_WRITABLE', `${target.name} does not accept writes: ${String(error)}`);
  })) {
    throw new StepFailedError('SWITCH_TARGET_NOT_WRITABLE', `${target.name} still refuses writes after read-only mode was lifted`);
  }
  // The application's link (targets.network) moves first, so nothing reconnects to the old instance through it.
  const followed = await ctx.router.link?.follow(target);
  // A partition cut the application off the old database; the new path does not cross it.
  if (followed && followed.lifted.length > 0) {
    ctx.recorder.event('partition-left-behind', `the application's link now leads to ${target.name}, outside ${followed.lifted.join(', ')} (removed: it cut the application off ${from})`, { lifted: followed.lifted });
  }
  ctx.router.switchTo(target);
  let service: Record<string, unknown> | undefined;
  if (ctx.has('service') && ctx.service.followDatabase) {
    try {
      service = await ctx.service.followDatabase(ctx.router.applicationConnection, ctx.signal);
    } catch (error) {
      if (error instanceof DrillError && (error.kind === 'interrupted' || error.kind === 'input')) throw error;
      ctx.signal.throwIfAborted();
      throw new StepFailedError('SERVICE_NOT_MOVED', `the service did not come back on ${target.name}: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
    }
  }
  await ctx.writer.retarget();
  return { from, to: target.name, port: target.connection.port, ...(followed && followed.lifted.length > 0 ? { partitionsLeftBehind: followed.lifted } : {}), ...(service ? { service } : {}) };
}
