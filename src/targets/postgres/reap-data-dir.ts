import path from 'node:path';
import createDebug from 'debug';
import { ABSENT, left, removed, type ReapOutcome } from '../../engine/reap-outcome.js';
import type { Resource } from '../../engine/resource-ledger.js';
import { runCommand } from '../process/run-command.js';
import { postmasterOf, serverProcessesIn } from './data-dir-processes.js';
import { awaitExit } from './native-process.js';

const debug = createDebug('drill:reaper');

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
  if (postmaster === undefined && serverProcessesIn(r.path).length === 0) return ABSENT;
  // A server frozen by region-outage blackhole (SIGSTOP) would not act on pg_ctl's signal.
  for (const pid of [...(postmaster === undefined ? [] : [postmaster]), ...serverProcessesIn(r.path)]) signal(pid, 'SIGCONT');
  if (postmaster !== undefined) {
    debug('stopping leftover PostgreSQL in %s (pid %d)', r.path, postmaster);
    await runCommand(path.join(r.bindir, 'pg_ctl'), ['-D', r.path, 'stop', '-m', 'immediate', '-w', '-t', '20'], {
      runAs: r.uid === undefined ? undefined : { uid: r.uid, gid: r.gid! },
    }).catch((error: unknown) => {
      debug('pg_ctl stop %s: %s; SIGKILL', r.path, String(error));
      kill(postmaster);
    });
  }
  const strays = serverProcessesIn(r.path);
  for (const pid of strays) kill(pid);
  const remaining = await awaitExit([...new Set([...(postmaster === undefined ? [] : [postmaster]), ...strays])], 10_000);
  return remaining.length > 0 ? left(what, `PostgreSQL processes ${remaining.join(', ')} did not stop`) : removed(what);
}
