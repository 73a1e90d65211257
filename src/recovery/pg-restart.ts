import type { DrillContext } from '../engine/drill-context.js';
import { DrillError, StepFailedError } from '../engine/errors.js';
import { serverLogLines } from '../targets/postgres/server-log.js';
import { writesRefused } from './write-probe.js';
import type { PgInstance } from '../targets/postgres/types.js';
import { limitsInPlace, oomKillsSince, oomKillCounts, OOM_SETTLE_MS } from './restart-under-limit.js';

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
  // Counted once the old server is stopped: only kills of the restarted one count.
  let oomBefore = new Map<string, number>();
  const logTail = async () => `${(await serverLogLines(instance, 8))?.join(' | ') ?? '(no server log where the harness can read it)'}${limitsInPlace(instance)}`;
  let stop: 'none' | 'fast' | 'killed after the fast stop failed' = 'none';
  try {
    if (wasRunning) stop = await stopOrKill(instance);
    oomBefore = oomKillCounts(instance);
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
  if (refused) throw new StepFailedError('PG_RESTART_READ_ONLY', `${instance.name} started but refuses writes (read-only)${limitsInPlace(instance)}`);
  // Under a memory limit of the drill: a server the kernel OOM-kills again right away is not back.
  const killed = await oomKillsSince(instance, oomBefore, OOM_SETTLE_MS);
  if (killed > 0) {
    throw new StepFailedError('PG_RESTART_OOM_KILLED', `${instance.name} started and took a write, but the kernel OOM-killed ${killed} of its processes within ${OOM_SETTLE_MS / 1000} s of the restart: ${await logTail()}`);
  }
  return { instance: instance.name, wasRunning, stop, acceptsWrites: true };
}

/**
 * A clean (fast) stop, and when that does not finish (a server reinitializing after a crash may
 * never act on it: PostgreSQL 15 then waits for ever, "pg_ctl: server does not shut down"), what
 * an operator does next: kill it; the start then runs crash recovery. Only a server on this machine
 * (native) is killed; elsewhere the failed stop stands.
 */
async function stopOrKill(instance: PgInstance): Promise<'fast' | 'killed after the fast stop failed'> {
  try {
    await instance.stop();
    return 'fast';
  } catch (error) {
    if (!instance.localProcesses || !(error instanceof DrillError) || error.code !== 'COMMAND_FAILED') throw error;
    await instance.kill();
    if (await instance.isRunning()) throw error;
    return 'killed after the fast stop failed';
  }
}
