import { existsSync, rmSync } from 'node:fs';
import { stillRunning, type ProcessIdentity } from '../targets/process/process-identity.js';
import { sleep } from './clock.js';

/**
 * A drill process started ahead of its turn (`drill run` starts the next drill's process while one
 * runs: its boot and imports overlap the running drill's waits) waits here, loaded, until the CLI
 * writes the start file. Nothing of the drill starts before: no target, no clock, no journal.
 * 'cancelled' when the CLI asks it to stop instead (the interrupt file: Ctrl-C, --fail-fast) or is
 * gone (killed): the CLI then removes the run dir, or the next reaper the ledger.
 */
export async function awaitStartRequest(
  files: { start: string; interrupt: string },
  parent: ProcessIdentity | undefined,
  pollMs = 20,
): Promise<'start' | 'cancelled'> {
  let lastParentCheck = Date.now();
  for (;;) {
    if (existsSync(files.interrupt)) return 'cancelled';
    if (existsSync(files.start)) {
      // The run dir holds what the drill wrote; the request was the CLI's.
      rmSync(files.start, { force: true });
      return 'start';
    }
    if (parent && Date.now() - lastParentCheck >= 500) {
      lastParentCheck = Date.now();
      if (!stillRunning(parent)) return 'cancelled';
    }
    await sleep(pollMs);
  }
}
