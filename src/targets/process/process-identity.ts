import { childEnvironment } from './child-environment.js';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

/**
 * A process named so that a later look can tell whether it is still the same process: a pid alone
 * is not enough, the kernel hands a freed pid to the next process that starts. The start time
 * (with the boot it belongs to) is fixed for a process's whole life, exec included.
 */
export interface ProcessIdentity {
  pid: number;
  /** `<boot id>:<start time in clock ticks>` on Linux, `ps -o lstart` elsewhere; absent when unknown. */
  startTime?: string;
}

function readProc(pid: number): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
}

let bootId: string | undefined;
function currentBootId(): string {
  bootId ??= (() => {
    try {
      return readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
    } catch {
      return 'unknown-boot';
    }
  })();
  return bootId;
}

const hasProc = (() => {
  try {
    readFileSync('/proc/self/stat');
    return true;
  } catch {
    return false;
  }
})();

interface ProcState {
  state: string;
  startTicks: string;
}

/** "pid (comm) state ppid ... starttime(22) ...": comm may hold spaces and ')', so fields are counted after the last ')'. */
function procState(pid: number): ProcState | undefined {
  const stat = readProc(pid);
  if (stat === undefined) return undefined;
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // fields[0] is field 3 (state); field 22 (starttime) is fields[19].
  return { state: fields[0] ?? '?', startTicks: fields[19] ?? '?' };
}

function psStartTime(pid: number): string | undefined {
  try {
    return execFileSync('ps', ['-o', 'lstart=', '-p', String(pid)], { encoding: 'utf8', env: childEnvironment() }).trim() || undefined;
  } catch {
    return undefined;
  }
}

/** The start time of a running process, or undefined when there is no such process (or it is a zombie). */
export function processStartTime(pid: number): string | undefined {
  if (!Number.isInteger(pid) || pid <= 0) return undefined;
  if (!hasProc) return psStartTime(pid);
  const proc = procState(pid);
  if (!proc || proc.state === 'Z' || proc.state === 'X') return undefined;
  return `${currentBootId()}:${proc.startTicks}`;
}

export function identify(pid: number = process.pid): ProcessIdentity {
  return { pid, startTime: processStartTime(pid) };
}

/**
 * Whether the process is still running and is the one identified (same start time). A record
 * without a start time (not known when it was made) matches only by pid being alive.
 */
export function stillRunning(identity: ProcessIdentity): boolean {
  const now = processStartTime(identity.pid);
  if (now === undefined) return false;
  return identity.startTime === undefined || identity.startTime === now;
}
