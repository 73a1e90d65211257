import type { DrillContext } from '../engine/drill-context.js';
import { StepFailedError } from '../engine/errors.js';
import { setDatabaseReadOnly, writesRefused } from './write-probe.js';

/**
 * The way back from `stop-writes` when the database itself is fine (a false alarm, or a recovery
 * that repaired it in place): read-only mode lifted and the application's writer resumed.
 * Postcondition: a write is accepted.
 */
export async function resumeWrites(ctx: DrillContext): Promise<Record<string, unknown>> {
  const instance = ctx.router.current;
  await setDatabaseReadOnly(ctx.router.connection, false);
  if (await writesRefused(ctx.router.connection)) {
    throw new StepFailedError('WRITES_STILL_REFUSED', `${instance.name} still refuses writes after read-only mode was lifted`);
  }
  ctx.writer.resume();
  return { instance: instance.name, readOnly: false, writerResumed: true };
}
