import type { DrillContext } from '../engine/drill-context.js';
import { DrillError, StepFailedError } from '../engine/errors.js';
import { serverLogLines } from '../targets/postgres/server-log.js';
import { writesRefused } from './write-probe.js';

/**
 * Start the application's database server again (stopped cleanly first if it still runs), as an
 * operator does once the cause of a crash is dealt with: crash recovery replays the WAL. A server
 * that does not come up, or comes up refusing writes, fails the step (a runbook failure, exit 1,
 * not the machine's): the message carries the end of its log, which names the cause (a full disk:
 * "No space left on device").
 */
export async function pgRestart(ctx: DrillContext): Promise<Record<string, unknown>> {
  const instance = ctx.router.current;
  const wasRunning = await instance.isRunning();
  const logTail = async () => (await serverLogLines(instance, 8))?.join(' | ') ?? '(no server log where the harness can read it)';
  try {
    if (wasRunning) await instance.stop();
    await instance.start();
  } catch (error) {
    // A server the harness cannot start or stop at all (external: refused) is not a failed restart.
    if (error instanceof DrillError && error.code !== 'PG_START_FAILED') throw error;
    throw new StepFailedError('PG_RESTART_FAILED', `${instance.name} did not come back up; its log ends: ${await logTail()}`, { cause: error });
  }
  let refused: boolean;
  try {
    refused = await writesRefused(instance.connection);
  } catch (error) {
    throw new StepFailedError('PG_RESTART_WRITE_FAILED', `${instance.name} started but a write failed (${(error as Error).message}): ${await logTail()}`, { cause: error });
  }
  if (refused) throw new StepFailedError('PG_RESTART_READ_ONLY', `${instance.name} started but refuses writes (read-only)`);
  return { instance: instance.name, wasRunning, acceptsWrites: true };
}
