import createDebug from 'debug';
import pg from 'pg';
import type { DrillContext } from '../engine/drill-context.js';
import { sleep } from '../engine/clock.js';
import { runCommand } from '../targets/process/run-command.js';
import type { LimitCgroup } from '../targets/process/limit-cgroup.js';
import { serverLogLines } from '../targets/postgres/server-log.js';
import type { PgInstance } from '../targets/postgres/types.js';
import { withClient } from '../targets/postgres/with-client.js';
import { recordProcess, stillRecorded, type RegionProcess } from './region-processes.js';
import { endClient } from '../targets/postgres/end-client.js';

const debug = createDebug('drill:inject');

const POLL_MS = 20;
/** After the kill: how long the postmaster may take to notice, run crash recovery and be ready again (or be gone). */
const AFTERMATH_MS = 30_000;
/**
 * A sort that needs far more memory than any limit a drill sets: with work_mem at its maximum it
 * sorts in memory, so the backend grows until the kernel kills it (or the query is cancelled).
 */
const HUNGRY_QUERY = 'select count(*) from (select g from generate_series(1, 400000000) g order by md5(g::text)) s';

export interface OomEvidence {
  /** The last poll that saw no kill yet: the kill came after it (T_fault). */
  lastUnkilledAt: number;
  observedAt: number;
  /** The pid the kernel killed, from its log line for this cgroup (or the recorded process found dead). */
  killedPid?: number;
  killed?: 'postmaster' | 'backend (the allocating session)' | 'backend';
  /** The kernel's own words: `Memory cgroup out of memory: Killed process …`, where the harness can read the kernel log. */
  kernelLog?: string;
  /** What PostgreSQL logged: `server process (PID …) was terminated by signal 9: Killed` and the crash recovery that followed. */
  serverLog: string[];
  /** The postmaster survived and finished crash recovery (restart_after_crash; or had not within 30 s), or it died. */
  outcome: 'crash-recovery' | 'crash-recovery-unfinished' | 'postmaster-killed' | 'unknown';
  memory: Record<string, number>;
}

/**
 * Drives a session past the cgroup's memory limit until the kernel OOM killer kills a process of
 * the server: `work_mem` raised to its maximum in that session only, a sort of far more rows than
 * fit. The kill is observed by polling memory.oom_control's oom_kill counter (and the session's
 * connection dropping); the instant of the last poll that saw none is when it was not yet killed.
 * Returns undefined when nothing was killed within `killWithin` (the query is cancelled).
 */
export async function driveOomKill(ctx: DrillContext, instance: PgInstance, cgroup: LimitCgroup, postmaster: RegionProcess, killWithin: number): Promise<OomEvidence | undefined> {
  const before = oomKills(cgroup);
  const logBefore = new Set((await serverLogLines(instance, 400)) ?? []);
  let lastUnkilledAt = ctx.clock.now();
  const deadline = lastUnkilledAt + killWithin;
  const client = new pg.Client({ ...instance.connection, connectionTimeoutMillis: 10_000 });
  client.on('error', () => undefined); // the kill ends the connection: expected
  let session: RegionProcess | undefined;
  let endedAt: number | undefined;
  let query: Promise<unknown> = Promise.resolve();
  try {
    // Under a tight limit the session's own start may be what the kernel kills: that is the kill too.
    await client.connect();
    const backend = Number((await client.query<{ pid: number }>('select pg_backend_pid() as pid')).rows[0]!.pid);
    session = recordProcess(`${instance.name} backend`, backend, true);
    await client.query("set work_mem = '2GB'; set max_parallel_workers_per_gather = 0; set statement_timeout = 0");
    query = client.query(HUNGRY_QUERY).finally(() => (endedAt = ctx.clock.now()));
    query.catch(() => undefined);
  } catch {
    endedAt = ctx.clock.now();
  }
  const seenKill = () => oomKills(cgroup) > before || !stillRecorded(postmaster) || (session !== undefined && !stillRecorded(session));
  try {
    for (;;) {
      const now = ctx.clock.now();
      if (seenKill()) break;
      // The query ended without a kill seen: give the counter one more poll before giving up.
      if ((endedAt !== undefined && now - endedAt > 500) || now > deadline) {
        if (session) await withClient(instance.connection, (c) => c.query('select pg_cancel_backend($1)', [session!.pid])).catch(() => undefined);
        return undefined;
      }
      lastUnkilledAt = now;
      await sleep(POLL_MS);
    }
  } finally {
    await Promise.race([query.catch(() => undefined), sleep(2000)]);
    await endClient(client);
  }
  const backend = session?.pid;
  const observedAt = ctx.clock.now();
  debug('%s: OOM kill observed (%d ms after the last poll without one)', instance.name, observedAt - lastUnkilledAt);
  const aftermath = await awaitAftermath(instance, postmaster, logBefore);
  const kernel = await kernelKillLine(cgroup);
  const killedPid = kernel?.pid ?? (!stillRecorded(postmaster) ? postmaster.pid : session && !stillRecorded(session) ? backend : undefined);
  const killed = killedPid === postmaster.pid ? 'postmaster' : killedPid === backend ? 'backend (the allocating session)' : killedPid !== undefined ? 'backend' : undefined;
  return { lastUnkilledAt, observedAt, killedPid, killed, kernelLog: kernel?.line, serverLog: aftermath.lines, outcome: aftermath.outcome, memory: cgroup.memoryCounters() };
}

/** memory.oom_control's oom_kill counter (kernels since 4.13); 0 where there is none. */
function oomKills(cgroup: LimitCgroup): number {
  try {
    return cgroup.readCounters('memory.oom_control').oom_kill ?? 0;
  } catch {
    return 0; // the cgroup is gone (released meanwhile)
  }
}

const TERMINATED = /terminated by signal 9/;
const CRASH_RECOVERY = /all server processes terminated; reinitializing|terminating any other active server processes/;
const READY = /database system is ready to accept connections/;

/**
 * Waits until the postmaster is gone, or has finished the crash recovery it started (ready again,
 * under the limit), and returns the new server log lines. Recovery then starts from a settled
 * server: a fast shutdown that arrives while PostgreSQL 15 reinitializes after a crash can leave
 * the postmaster waiting for ever.
 */
async function awaitAftermath(instance: PgInstance, postmaster: RegionProcess, logBefore: Set<string>): Promise<{ outcome: OomEvidence['outcome']; lines: string[] }> {
  const until = Date.now() + AFTERMATH_MS;
  for (;;) {
    const lines = ((await serverLogLines(instance, 400)) ?? []).filter((l) => !logBefore.has(l));
    const relevant = lines.filter((l) => TERMINATED.test(l) || CRASH_RECOVERY.test(l) || READY.test(l) || /PANIC|FATAL|LOG: {2}database system/.test(l)).slice(0, 12);
    if (!stillRecorded(postmaster)) return { outcome: 'postmaster-killed', lines: relevant };
    const reinit = lines.findIndex((l) => CRASH_RECOVERY.test(l));
    if (reinit >= 0 && lines.slice(reinit).some((l) => READY.test(l))) return { outcome: 'crash-recovery', lines: relevant };
    if (Date.now() > until) return { outcome: reinit >= 0 ? 'crash-recovery-unfinished' : 'unknown', lines: relevant };
    await sleep(50);
  }
}

/**
 * The kernel's line for the kill in this cgroup (`oom-kill:…oom_memcg=<path>…pid=N`, then `Memory
 * cgroup out of memory: Killed process N`), newest, where the kernel log can be read (dmesg needs
 * CAP_SYSLOG); undefined otherwise.
 */
async function kernelKillLine(cgroup: LimitCgroup): Promise<{ pid: number; line: string } | undefined> {
  const out = await runCommand('dmesg', [], { timeoutMs: 5000 }).catch(() => undefined);
  if (!out) return undefined;
  const lines = out.stdout.split('\n');
  for (let i = lines.length - 1; i >= 0; i--) {
    const line = lines[i]!;
    if (!line.includes(`oom_memcg=${cgroup.record.path},`)) continue;
    const pid = Number(/[,\s]pid=(\d+)/.exec(line)?.[1]);
    if (!pid) continue;
    const killedLine = lines.slice(i + 1, i + 4).find((l) => l.includes(`Killed process ${pid} `));
    return { pid, line: (killedLine ?? line).replace(/^\[\s*[\d.]+\]\s*/, '') };
  }
  return undefined;
}
