import { serverProcesses } from '../targets/postgres/server-signals.js';
import { isPostgresPid } from '../targets/postgres/native-process.js';
import type { PgInstance } from '../targets/postgres/types.js';
import { processStartTime } from '../targets/process/process-identity.js';

/**
 * A process region-outage signals, recorded so that a later signal (the blackhole's teardown, a
 * while after the outage) reaches it only if it is still the same process: a pid alone is not
 * enough, the kernel hands a freed pid to the next process that starts.
 */
export interface RegionProcess {
  name: string;
  pid: number;
  /** Its start time when recorded (process-identity.ts); undefined: it was already gone then. */
  startTime: string | undefined;
  /** A process of the region's PostgreSQL: it must still be a PostgreSQL process too. */
  postgres: boolean;
}

export function recordProcess(name: string, pid: number, postgres: boolean): RegionProcess {
  return { name, pid, startTime: processStartTime(pid), postgres };
}

/** The region database's processes on this machine, each named for the journal (postmaster, backend). */
export function databaseProcesses(database: PgInstance): RegionProcess[] {
  const { postmaster, others } = serverProcesses(database);
  return [
    ...(postmaster === undefined ? [] : [recordProcess(`${database.name} postmaster`, postmaster, true)]),
    ...others.map((pid) => recordProcess(`${database.name} backend`, pid, true)),
  ];
}

/** Whether the pid is still the recorded process: same start time and, for a database process, still PostgreSQL. */
export function stillRecorded(p: RegionProcess): boolean {
  if (p.startTime === undefined || processStartTime(p.pid) !== p.startTime) return false;
  return !p.postgres || isPostgresPid(p.pid);
}

/** Sends `signal` to each process that is still the one recorded; returns those signalled. */
export function signalRecorded(processes: readonly RegionProcess[], signal: NodeJS.Signals): RegionProcess[] {
  return processes.filter((p) => {
    if (!stillRecorded(p)) return false;
    try {
      process.kill(p.pid, signal);
      return true;
    } catch {
      return false; // gone since the check
    }
  });
}

/** What the journal shows of them. */
export function journalled(processes: readonly RegionProcess[]): Array<{ name: string; pid: number }> {
  return processes.map(({ name, pid }) => ({ name, pid }));
}
