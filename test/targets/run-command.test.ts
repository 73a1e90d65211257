/** runCommand with an AbortSignal, on real child processes. */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ABORT_KILL_GRACE_MS, runCommand } from '../../src/targets/process/run-command.js';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'run-command-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** Starts `script` (which writes its pid to the file given as $1 once it ignores SIGTERM), aborts it then. */
async function abortOnceIgnoring(name: string, script: string): Promise<{ error: unknown; pid: number; elapsedMs: number }> {
  const pidFile = path.join(tmp, name);
  const controller = new AbortController();
  const run = runCommand('sh', ['-c', script, 'sh', pidFile], { signal: controller.signal });
  while (!existsSync(pidFile) || readFileSync(pidFile, 'utf8').trim() === '') await new Promise((r) => setTimeout(r, 10));
  const started = Date.now();
  controller.abort();
  const error = await run.then(() => undefined, (e: unknown) => e);
  return { error, pid: Number(readFileSync(pidFile, 'utf8')), elapsedMs: Date.now() - started };
}

describe('runCommand aborted', () => {
  it('settles only once the child is gone, even when it outlives SIGTERM a while', async () => {
    // The child ignores SIGTERM (trapped before it says so) and leaves by itself after 3 s: Node
    // reports the abort at once, and a caller settled then would go on with the child running.
    const { error, pid, elapsedMs } = await abortOnceIgnoring('pid-3s', 'trap "" TERM; echo $$ > "$1"; exec sleep 3');
    expect(error).toMatchObject({ code: 'COMMAND_ABORTED' });
    expect(existsSync(`/proc/${pid}`), `child ${pid} still runs after runCommand settled`).toBe(false);
    expect(elapsedMs).toBeGreaterThanOrEqual(2500);
  });

  it('kills a child that ignores SIGTERM for good, after the grace period', { timeout: 30_000 }, async () => {
    const { error, pid, elapsedMs } = await abortOnceIgnoring('pid-forever', 'trap "" TERM; echo $$ > "$1"; exec sleep 60');
    expect(error).toMatchObject({ code: 'COMMAND_ABORTED', message: expect.stringMatching(/SIGKILL/) });
    expect(existsSync(`/proc/${pid}`)).toBe(false);
    expect(elapsedMs).toBeGreaterThanOrEqual(ABORT_KILL_GRACE_MS - 100);
  });
});
