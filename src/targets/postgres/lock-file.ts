import { readFileSync } from 'node:fs';
import path from 'node:path';
import { postgresProcessAlive } from './native-process.js';

/**
 * A data directory's postmaster.pid as PostgreSQL writes it (src/include/miscadmin.h,
 * LOCK_FILE_LINE_*): line 1 the postmaster's pid, line 3 its start time in epoch seconds, line 8
 * its status ("starting", "ready", "standby", "stopping"), which the postmaster rewrites in place.
 */
export interface LockFile {
  pid: number;
  startedAtSeconds: number;
  status: string;
}

export function readLockFile(dataDir: string): LockFile | undefined {
  let lines: string[];
  try {
    lines = readFileSync(path.join(dataDir, 'postmaster.pid'), 'utf8').split('\n');
  } catch {
    return undefined;
  }
  const pid = Number(lines[0]);
  if (!Number.isInteger(pid) || pid <= 0) return undefined;
  return { pid, startedAtSeconds: Number(lines[2]), status: (lines[7] ?? '').trim() };
}

/**
 * What `pg_ctl start -w` waits for: a postmaster started at or after `sinceMs` (the lock file's
 * start time has a resolution of seconds; pg_ctl allows the same 2 s) reports itself ready for
 * connections ("standby": a standby without hot standby). `notPid` is the pid a stale lock file
 * named before the start, so a crashed server's "ready" is never taken for the new one's.
 */
export function startedAndReady(dataDir: string, sinceMs: number, notPid: number | undefined): boolean {
  const lock = readLockFile(dataDir);
  if (!lock || lock.pid === notPid) return false;
  if (lock.startedAtSeconds < Math.floor(sinceMs / 1000) - 2) return false;
  return (lock.status === 'ready' || lock.status === 'standby') && postgresProcessAlive(lock.pid);
}

/**
 * What `pg_ctl stop -w` waits for: the lock file is gone (the postmaster's last act) or names a
 * process that no longer exists.
 */
export function stopped(dataDir: string): boolean {
  const lock = readLockFile(dataDir);
  if (!lock) return true;
  try {
    process.kill(lock.pid, 0);
    return false;
  } catch (error) {
    // EPERM: a process exists (another user's): not known to be gone.
    return (error as NodeJS.ErrnoException).code === 'ESRCH';
  }
}
