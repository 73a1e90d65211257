/** runCommand with an AbortSignal, on real child processes. */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCommand } from '../../src/targets/process/run-command.js';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'run-command-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('runCommand aborted', () => {
  it('settles only once the child is gone, even when it outlives the signal a while', async () => {
    // The child ignores SIGTERM and leaves after 0.5 s: Node reports the abort at once, and a
    // caller settled then would go on with the child still running.
    const pidFile = path.join(tmp, 'pid');
    const controller = new AbortController();
    const run = runCommand('sh', ['-c', `echo $$ > ${pidFile}; trap "" TERM; exec sleep 0.5`], { signal: controller.signal });
    while (!existsSync(pidFile) || readFileSync(pidFile, 'utf8').trim() === '') await new Promise((r) => setTimeout(r, 10));
    controller.abort();
    await expect(run).rejects.toThrow(/was aborted/);
    const pid = Number(readFileSync(pidFile, 'utf8'));
    expect(existsSync(`/proc/${pid}`), `child ${pid} still runs after runCommand settled`).toBe(false);
  });
});
