import type { DrillContext } from '../engine/drill-context.js';
import { DrillError, StepFailedError } from '../engine/errors.js';
import { serverLogLines } from '../targets/postgres/server-log.js';
import { writesRefused } from './write-probe.js';
import type { PgInstance } from '../targets/postgres/types.js';

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
  const logTail = async () => `${(await serverLogLines(instance, 8))?.join(' | ') ?? '(no server log where the harness can read it)'}${limitsInPlace(instance)}`;
  let stop: 'none' | 'fast' | 'killed after the fast stop failed' = 'none';
  try {
    if (wasRunning) stop = await stopOrKill(instance);
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

/**
 * A resource fault's limit still on the server (src/targets/process/limit-cgroup.ts): a restart
 * that fails under it is most likely failing because of it, so the message says so with the
 * kernel's counters (the server log only says "terminated by signal 9: Killed").
 */
function limitsInPlace(instance: PgInstance): string {
  const notes = (instance.resourceLimits?.attached ?? []).map((cgroup) => {
    const c = cgroup.counters();
    return cgroup.controller === 'memory'
      ? `the drill's memory limit of ${Math.round((c.limitBytes ?? 0) / MIB)} MiB is still in place (${cgroup.dir}): the kernel OOM-killed ${c.oomKill ?? '?'} processes in it (memory.oom_control oom_kill), memory.failcnt ${c.failcnt ?? '?'}`
      : `the drill's CPU quota of ${(c.cfsQuotaUs ?? 0) / (c.cfsPeriodUs || 1)} CPU is still in place (${cgroup.dir}), throttled ${c.nrThrottled ?? '?'} times`;
  });
  return notes.length > 0 ? `; ${notes.join('; ')} (lift it first: remove-resource-limit)` : '';
}

const MIB = 1024 * 1024;
