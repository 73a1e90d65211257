import { existsSync } from 'node:fs';
import path from 'node:path';
import type { DrillContext, FaultHandle } from '../engine/drill-context.js';
import { EnvironmentError } from '../engine/errors.js';
import type { Fault } from '../scenario/schema.js';
import { liftLimit } from '../targets/process/attached-cgroups.js';
import { limitServer, movedForJournal } from './limit-server.js';
import { driveOomKill } from './oom-kill.js';

type MemoryStress = Extract<Fault, { type: 'memory-stress' }>;

const MIB = 1024 * 1024;

/**
 * Memory pressure on the database host, as a container or VM with too little memory: the primary's
 * PostgreSQL runs in a drill cgroup with memory.limit_in_bytes `limit` (and the same for memory
 * plus swap, where swap is accounted, so it cannot page its way out). A process of it that needs
 * more is killed by the kernel's OOM killer, for real.
 *
 * - `limit`: only the limit; T_fault is the instant before the postmaster was moved in.
 * - `oom-kill`: then a session drives a sort past the limit until the kernel kills a process of the
 *   server (the session's backend, the biggest, usually: PostgreSQL then terminates every session
 *   and runs crash recovery; the postmaster, if the kernel picks it: the server is gone). T_fault is
 *   the last poll that saw no kill (within 20 ms of the kill); the journal names the pid killed, the
 *   kernel's and PostgreSQL's log lines and the cgroup's counters (failcnt, oom_kill, under_oom).
 */
export async function injectMemoryStress(ctx: DrillContext, fault: MemoryStress): Promise<FaultHandle> {
  const limited = await limitServer(ctx, 'memory-stress', 'memory', (cgroup) => {
    cgroup.write('memory.limit_in_bytes', fault.limit);
    if (existsSync(path.join(cgroup.dir, 'memory.memsw.limit_in_bytes'))) cgroup.write('memory.memsw.limit_in_bytes', fault.limit);
  });
  const { instance, cgroup } = limited;
  const base = {
    instance: instance.name,
    cgroup: cgroup.dir,
    limitBytes: fault.limit,
    mode: fault.mode,
    processes: movedForJournal(limited.moved),
  };
  const handle = (description: string, details: Record<string, unknown>, inEffectAt: number): FaultHandle => ({
    description,
    details: { ...base, ...details },
    inEffectAt,
    // Reverted only if recovery did not (remove-resource-limit): the server's processes go back.
    async [Symbol.asyncDispose]() {
      await liftLimit(instance, cgroup);
    },
  });
  const limitText = `${fault.limit / MIB} MiB`;
  if (fault.mode === 'limit') {
    return handle(`memory stress: ${instance.name}'s PostgreSQL limited to ${limitText} in ${cgroup.dir}`, { memory: cgroup.memoryCounters() }, limited.limitedAt);
  }
  const postmaster = limited.moved.find((p) => p.name.endsWith('postmaster'))!;
  const oom = await driveOomKill(ctx, instance, cgroup, postmaster, fault.killWithin).catch(async (error: unknown) => {
    await liftLimit(instance, cgroup).catch(() => undefined);
    throw error;
  });
  if (!oom) {
    const memory = cgroup.memoryCounters();
    await liftLimit(instance, cgroup);
    throw new EnvironmentError(
      'OOM_KILL_NOT_SEEN',
      `memory-stress (oom-kill): no process of ${instance.name} was OOM-killed within ${fault.killWithin / 1000} s under a ${limitText} limit ` +
        `(memory.failcnt ${memory.failcnt ?? '?'}, oom_kill ${memory.oomKill ?? '?'}); the limit was lifted. Check memory.oom_control (oom_kill_disable) of ${cgroup.dir} and that nothing else runs the session's sort`,
    );
  }
  const who = oom.killed ? `the ${oom.killed} (pid ${oom.killedPid})` : 'a process';
  const after = {
    'crash-recovery': 'PostgreSQL terminated every session and ran crash recovery',
    'crash-recovery-unfinished': 'PostgreSQL terminated every session; its crash recovery had not finished 30 s later',
    'postmaster-killed': 'the server is gone',
    unknown: 'what followed is unknown',
  }[oom.outcome];
  return handle(
    `memory stress (oom-kill): the kernel OOM-killed ${who} of ${instance.name}'s PostgreSQL under a ${limitText} limit; ${after}${oom.kernelLog ? `: ${oom.kernelLog}` : ''}`,
    {
      killedPid: oom.killedPid,
      killed: oom.killed,
      outcome: oom.outcome,
      kernelLog: oom.kernelLog,
      serverLog: oom.serverLog,
      killObservedAt: oom.observedAt,
      memory: oom.memory,
    },
    oom.lastUnkilledAt,
  );
}
