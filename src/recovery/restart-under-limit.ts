import { sleep } from '../engine/clock.js';
import type { PgInstance } from '../targets/postgres/types.js';

const MIB = 1024 * 1024;
/** How long a server restarted under a drill memory limit must go without an OOM kill to count as back. */
export const OOM_SETTLE_MS = 5000;

/**
 * A resource fault's limit still on the server (src/targets/process/limit-cgroup.ts): a restart
 * that fails under it is most likely failing because of it, so the message says so with the
 * kernel's counters (the server log only says "terminated by signal 9: Killed"). Empty without one.
 */
export function limitsInPlace(instance: PgInstance): string {
  const notes = (instance.resourceLimits?.attached ?? []).map((cgroup) => {
    const c = cgroup.counters();
    return cgroup.controller === 'memory'
      ? `the drill's memory limit of ${Math.round((c.limitBytes ?? 0) / MIB)} MiB is still in place (${cgroup.dir}): the kernel OOM-killed ${c.oomKill ?? '?'} processes in it (memory.oom_control oom_kill), memory.failcnt ${c.failcnt ?? '?'}`
      : `the drill's CPU quota of ${(c.cfsQuotaUs ?? 0) / (c.cfsPeriodUs || 1)} CPU is still in place (${cgroup.dir}), throttled ${c.nrThrottled ?? '?'} times`;
  });
  return notes.length > 0 ? `; ${notes.join('; ')} (lift it first: remove-resource-limit)` : '';
}

/** The OOM kills counted so far in each memory cgroup of the drill attached to the server, by directory. */
export function oomKillCounts(instance: PgInstance): Map<string, number> {
  const counts = new Map<string, number>();
  for (const cgroup of instance.resourceLimits?.attached ?? []) {
    if (cgroup.controller === 'memory') counts.set(cgroup.dir, cgroup.memoryCounters().oomKill ?? 0);
  }
  return counts;
}

/**
 * How many OOM kills the attached memory cgroups counted since `before`, watching for `windowMs`
 * (returning at the first); 0 at once when no memory limit is attached.
 */
export async function oomKillsSince(instance: PgInstance, before: Map<string, number>, windowMs: number): Promise<number> {
  if (before.size === 0) return 0;
  const until = Date.now() + windowMs;
  for (;;) {
    let killed = 0;
    for (const [dir, count] of oomKillCounts(instance)) killed += count - (before.get(dir) ?? 0);
    if (killed > 0 || Date.now() >= until) return killed;
    await sleep(100);
  }
}
