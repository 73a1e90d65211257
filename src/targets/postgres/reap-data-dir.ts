import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import createDebug from 'debug';
import { ABSENT, left, removed, type ReapOutcome } from '../../engine/reap-outcome.js';
import type { Resource } from '../../engine/resource-ledger.js';
import { runCommand } from '../process/run-command.js';
import { awaitExit, isPostgresPid, processesIn } from './native-process.js';

const debug = createDebug('drill:reaper');

const HAS_PROC = existsSync('/proc/self/stat');

/**
 * The postmaster recorded in the data directory's postmaster.pid, if that pid is a PostgreSQL
 * process working in this data directory. A stale pid file (the server crashed) may name a pid now
 * used by an unrelated program, or by another PostgreSQL server: neither may be signalled.
 */
function postmasterOf(dataDir: string): number | undefined {
  const pidFile = path.join(dataDir, 'postmaster.pid');
  let pid: number;
  try {
    pid = Number(readFileSync(pidFile, 'utf8').split('\n')[0]);
  } catch {
    return undefined;
  }
  if (!Number.isInteger(pid) || pid <= 0 || !isPostgresPid(pid)) return undefined;
  // Without /proc the name is all there is to go on (the reaper's old behaviour).
  return !HAS_PROC || processesIn(dataDir).includes(pid) ? pid : undefined;
}

/** PostgreSQL processes of this data directory: their working directory is it (backends orphaned by a killed postmaster included). */
function serverProcesses(dataDir: string): number[] {
  return processesIn(dataDir).filter(isPostgresPid);
}

function signal(pid: number, name: NodeJS.Signals): void {
  try {
    process.kill(pid, name);
  } catch {
    /* already gone */
  }
}

function kill(pid: number): void {
  signal(pid, 'SIGKILL');
}

/** Stops whatever PostgreSQL still runs on a data directory a drill created (the directory itself goes with its temp dir). */
export async function reapPostgresDataDir(r: Extract<Resource, { kind: 'pg-data-dir' }>): Promise<ReapOutcome> {
  const what = `postgres ${r.path}`;
  const postmaster = postmasterOf(r.path);
  if (postmaster === undefined && serverProcesses(r.path).length === 0) return ABSENT;
  // A server frozen by region-outage blackhole (SIGSTOP) would not act on pg_ctl's signal.
  for (const pid of [...(postmaster === undefined ? [] : [postmaster]), ...serverProcesses(r.path)]) signal(pid, 'SIGCONT');
  if (postmaster !== undefined) {
    debug('stopping leftover PostgreSQL in %s (pid %d)', r.path, postmaster);
    await runCommand(path.join(r.bindir, 'pg_ctl'), ['-D', r.path, 'stop', '-m', 'immediate', '-w', '-t', '20'], {
      runAs: r.uid === undefined ? undefined : { uid: r.uid, gid: r.gid! },
    }).catch((error: unknown) => {
      debug('pg_ctl stop %s: %s; SIGKILL', r.path, String(error));
      kill(postmaster);
    });
  }
  const strays = serverProcesses(r.path);
  for (const pid of strays) kill(pid);
  const remaining = await awaitExit([...new Set([...(postmaster === undefined ? [] : [postmaster]), ...strays])], 10_000);
  return remaining.length > 0 ? left(what, `PostgreSQL processes ${remaining.join(', ')} did not stop`) : removed(what);
}
