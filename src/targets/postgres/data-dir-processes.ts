import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { isPostgresPid, processesIn } from './native-process.js';

const HAS_PROC = existsSync('/proc/self/stat');

/**
 * Which processes belong to the PostgreSQL server of a data directory: the only ones the harness
 * may signal for it (the region-outage fault, the data-dir reaper). A stale postmaster.pid (the
 * server crashed) may name a pid now used by an unrelated program or by another PostgreSQL server,
 * and anything started in the directory (a shell, a backup tool) has it as working directory too.
 */

/**
 * The postmaster recorded in the data directory's postmaster.pid, if that pid is a PostgreSQL
 * process working in this data directory; undefined otherwise.
 */
export function postmasterOf(dataDir: string): number | undefined {
  let pid: number;
  try {
    pid = Number(readFileSync(path.join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
  } catch {
    return undefined;
  }
  if (!Number.isInteger(pid) || pid <= 0 || !isPostgresPid(pid)) return undefined;
  // Without /proc the name is all there is to go on.
  return !HAS_PROC || processesIn(dataDir).includes(pid) ? pid : undefined;
}

/** Its PostgreSQL processes: working directory the data directory (backends orphaned by a killed postmaster included), `except` left out. */
export function serverProcessesIn(dataDir: string, except?: number): number[] {
  return processesIn(dataDir, except).filter(isPostgresPid);
}
