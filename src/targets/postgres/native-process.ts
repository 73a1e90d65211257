import { existsSync, readdirSync, readFileSync, readlinkSync, realpathSync } from 'node:fs';
import path from 'node:path';

/**
 * Local PostgreSQL processes as the kernel sees them (Linux /proc). A crashed postmaster can stay
 * a zombie until its parent reaps it (seconds, under some init processes); it serves nothing,
 * so "serving" here means running and not a zombie. NativeInstance.isRunning() counts zombies,
 * rightly for pg_ctl, which cannot start a server over a pid that still exists.
 */

function statOf(pid: number): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
}

/** "pid (comm) state ppid ...": comm may hold spaces and parentheses, so fields are read after the last ')'. */
function fieldsAfterComm(stat: string): string[] {
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
}

/**
 * The pid exists (a zombie counts) and is a PostgreSQL process, not an unrelated process that got
 * a stale postmaster.pid's number after a crash: the only pids the harness may signal.
 */
export function isPostgresPid(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  const stat = statOf(pid);
  return stat === undefined ? !existsSync('/proc/self/stat') : stat.includes('(postgres)');
}

/** Running, not a zombie, and still a PostgreSQL process (not a new process with a recycled pid). */
export function postgresProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  const stat = statOf(pid);
  // Without /proc, existence is all there is to go on.
  if (stat === undefined) return !existsSync('/proc/self/stat');
  const state = fieldsAfterComm(stat)[0];
  return stat.includes('(postgres)') && state !== 'Z' && state !== 'X';
}

/** Whether the instance's postmaster runs and serves (a zombie does not). */
export function serving(instance: { postmasterPid(): number | undefined }): boolean {
  const pid = instance.postmasterPid();
  return pid !== undefined && postgresProcessAlive(pid);
}

/**
 * The server's other processes: those whose working directory is its data directory (the
 * postmaster chdirs there and every child inherits it). That still finds backends after the
 * postmaster's death has re-parented them, and backends forked after a first look. Empty where
 * /proc is not there.
 */
export function processesIn(dataDir: string, except?: number): number[] {
  let entries: string[];
  try {
    entries = readdirSync('/proc').filter((entry) => /^\d+$/.test(entry));
  } catch {
    return [];
  }
  const target = workingDirectoryOf(dataDir);
  return entries.map(Number).filter((pid) => {
    if (pid === except) return false;
    try {
      return readlinkSync(`/proc/${pid}/cwd`) === target;
    } catch {
      return false;
    }
  });
}

/**
 * The process works in another directory than `dataDir`, as its readable working directory says: a
 * live process of another server. A zombie, or a process already exiting (the kernel drops its
 * working directory before it becomes a zombie), has none to read: not "elsewhere".
 */
export function workingElsewhere(pid: number, dataDir: string): boolean {
  let cwd: string;
  try {
    cwd = readlinkSync(`/proc/${pid}/cwd`);
  } catch {
    return false;
  }
  return cwd !== workingDirectoryOf(dataDir);
}

/** The data directory as /proc/<pid>/cwd shows it for a process working in it. */
function workingDirectoryOf(dataDir: string): string {
  try {
    return realpathSync(dataDir);
  } catch {
    // A data directory on a faulted filesystem (drillfs returning EIO) may not resolve: its
    // processes still have it as their working directory under the path it was started with.
    return path.resolve(dataDir);
  }
}

/** Waits until none of `pids` is a live PostgreSQL process; returns those still alive at the deadline. */
export async function awaitExit(pids: number[], timeoutMs: number): Promise<number[]> {
  const deadline = Date.now() + timeoutMs;
  let left = pids.filter(postgresProcessAlive);
  while (left.length > 0 && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 20));
    left = left.filter(postgresProcessAlive);
  }
  return left;
}
