import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { sleep } from '../../engine/clock.js';
import { childEnvironment } from '../process/child-environment.js';

/** The process's command line, or undefined when it no longer exists (or is a zombie). */
function commandLine(pid: number): string | undefined {
  try {
    if (process.platform === 'linux') {
      const raw = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      return raw ? raw.split('\0').join(' ') : undefined;
    }
    return execFileSync('ps', ['-o', 'args=', '-p', String(pid)], { encoding: 'utf8', env: childEnvironment() }).trim() || undefined;
  } catch {
    return undefined;
  }
}

/** Whether `pid` is alive and still the process that was recorded (its command line contains `match`). */
export function recordedProcessAlive(pid: number, match: string): boolean {
  return commandLine(pid)?.includes(match) ?? false;
}

/**
 * Stops a process recorded in a resource ledger (SIGTERM, then SIGKILL after `graceMs`) if it is
 * still the same process. Returns whether there was anything to stop.
 */
export async function stopRecordedProcess(pid: number, match: string, graceMs = 5_000): Promise<boolean> {
  if (!recordedProcessAlive(pid, match)) return false;
  const signal = (sig: NodeJS.Signals) => {
    try {
      process.kill(pid, sig);
    } catch {
      /* already gone */
    }
  };
  signal('SIGTERM');
  const deadline = Date.now() + graceMs;
  while (recordedProcessAlive(pid, match) && Date.now() < deadline) await sleep(100);
  if (recordedProcessAlive(pid, match)) {
    signal('SIGKILL');
    const killDeadline = Date.now() + 5_000;
    while (recordedProcessAlive(pid, match) && Date.now() < killDeadline) await sleep(50);
  }
  return true;
}
