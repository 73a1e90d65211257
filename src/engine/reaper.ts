import { existsSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import createDebug from 'debug';
import { runCommand } from '../targets/process/run-command.js';
import { readResources } from './resource-ledger.js';

const debug = createDebug('drill:reaper');

/**
 * Stops and removes whatever a drill recorded in its resource ledger and did not clean up itself
 * (its process was killed, or teardown failed). Safe to run when everything is already gone.
 * Returns what it had to clean, for the journal and for tests.
 */
export async function reapResources(ledgerFile: string): Promise<string[]> {
  const reaped: string[] = [];
  const resources = readResources(ledgerFile);
  for (const r of resources.filter((r) => r.kind === 'pg-data-dir')) {
    const pidFile = path.join(r.path, 'postmaster.pid');
    if (!existsSync(pidFile)) continue;
    const pid = Number(readFileSync(pidFile, 'utf8').split('\n')[0]);
    debug('stopping leftover PostgreSQL in %s (pid %d)', r.path, pid);
    await runCommand(path.join(r.bindir, 'pg_ctl'), ['-D', r.path, 'stop', '-m', 'immediate', '-w', '-t', '20'], {
      runAs: r.uid === undefined ? undefined : { uid: r.uid, gid: r.gid! },
    }).catch(() => {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        /* already gone */
      }
    });
    reaped.push(`postgres ${r.path}`);
  }
  for (const r of resources.filter((r) => r.kind === 'temp-dir')) {
    if (!existsSync(r.path)) continue;
    rmSync(r.path, { recursive: true, force: true });
    reaped.push(`dir ${r.path}`);
  }
  return reaped;
}
