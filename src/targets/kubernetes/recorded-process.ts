import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { sleep } from '../../engine/clock.js';
import { ABSENT, left, removed, type ReapOutcome } from '../../engine/reap-outcome.js';
import type { Resource } from '../../engine/resource-ledger.js';
import { processStartTime } from '../process/process-identity.js';
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

/**
 * Whether `pid` is alive and still the process that was recorded: its command line contains
 * `match` and, when the record has one, its start time is the recorded one.
 */
export function recordedProcessAlive(pid: number, match: string, startTime?: string): boolean {
  if (!(commandLine(pid)?.includes(match) ?? false)) return false;
  return startTime === undefined || processStartTime(pid) === startTime;
}

/**
 * Stops a process recorded in a resource ledger (SIGTERM, then SIGKILL after `graceMs`) if it is
 * still the same process. Returns whether there was anything to stop.
 */
export async function stopRecordedProcess(pid: number, match: string, graceMs = 5_000, startTime?: string): Promise<boolean> {
  const alive = () => recordedProcessAlive(pid, match, startTime);
  if (!alive()) return false;
  const signal = (sig: NodeJS.Signals) => {
    try {
      process.kill(pid, sig);
    } catch {
      /* already gone */
    }
  };
  signal('SIGTERM');
  // A stopped process (a region frozen by region-outage blackhole) handles its SIGTERM only once continued.
  signal('SIGCONT');
  const deadline = Date.now() + graceMs;
  while (alive() && Date.now() < deadline) await sleep(100);
  if (alive()) {
    signal('SIGKILL');
    const killDeadline = Date.now() + 5_000;
    while (alive() && Date.now() < killDeadline) await sleep(50);
  }
  return true;
}

/** The ledger's reaper for `process` entries (src/engine/reapers.ts). */
export async function reapRecordedProcess(r: Extract<Resource, { kind: 'process' }>): Promise<ReapOutcome> {
  if (!(await stopRecordedProcess(r.pid, r.match, 5_000, r.startTime))) return ABSENT;
  const what = `process ${r.name} ${r.pid}`;
  return recordedProcessAlive(r.pid, r.match, r.startTime) ? left(what, 'still running after SIGKILL') : removed(what);
}
