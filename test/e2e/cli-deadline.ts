import { execFileSync, type ChildProcess } from 'node:child_process';
import { TestRunner } from 'vitest';

/** Left for the CLI to clean up after its Ctrl-C, and for the test to report, before vitest's timeout. */
const CLEANUP_MS = 30_000;
/** After the Ctrl-C, how long the drill has to tear down before a second one (the CLI kills it and reaps what it left). */
const TEARDOWN_GRACE_MS = 15_000;
/** After the second Ctrl-C, how long the CLI has to reap before it is killed outright. */
const REAP_GRACE_MS = 10_000;

/**
 * Ctrl-C for a `drill` command that is still running when the current test is about to time out.
 * A drill that hangs (its own timeout is often longer than the test's) would otherwise be cut off
 * by vitest with nothing said, leaving its run ledger to fail the file's next tests; interrupted
 * here, it cleans up, the test fails on its exit code, and `note` gets what it was doing: its
 * process tree (state and kernel wait channel of each) at the moment of the Ctrl-C.
 * Returns the function that disarms it (call on exit).
 */
export function interruptBeforeTestTimeout(child: ChildProcess, note: (text: string) => void): () => void {
  const test = TestRunner.getCurrentTest();
  const started = test?.result?.startTime;
  if (!test?.timeout || started === undefined || child.pid === undefined) return () => undefined;
  const pid = child.pid;
  const remaining = Math.max(1000, started + test.timeout - CLEANUP_MS - Date.now());
  const timers: NodeJS.Timeout[] = [];
  const after = (ms: number, then: () => void) => timers.push(setTimeout(then, ms));
  after(remaining, () => {
    note(`\n[test] drill has not exited ${Math.round((Date.now() - started) / 1000)} s into the test (timeout ${test.timeout / 1000} s): Ctrl-C. Its processes then:\n${processTree(pid)}\n`);
    child.kill('SIGINT');
    after(TEARDOWN_GRACE_MS, () => {
      note(`\n[test] drill still running ${TEARDOWN_GRACE_MS / 1000} s after the Ctrl-C: Ctrl-C again (the drill is killed, its leftovers reaped). Its processes then:\n${processTree(pid)}\n`);
      child.kill('SIGINT');
      after(REAP_GRACE_MS, () => {
        note(`\n[test] drill still running after the second Ctrl-C: SIGKILL\n`);
        child.kill('SIGKILL');
      });
    });
  });
  return () => {
    for (const timer of timers) clearTimeout(timer);
  };
}

/** `ps` lines of `root` and its descendants: pid, parent, state, seconds running, wait channel, command. */
function processTree(root: number): string {
  try {
    const lines = execFileSync('ps', ['-e', '-o', 'pid=,ppid=,stat=,etimes=,wchan:24=,args='], { encoding: 'utf8' }).split('\n').filter(Boolean);
    const rows = lines.map((line) => {
      const [pid, ppid] = line.trim().split(/\s+/, 2).map(Number);
      return { pid: pid!, ppid: ppid!, line: line.slice(0, 240) };
    });
    const inTree = new Set([root]);
    for (let grew = true; grew; ) {
      grew = false;
      for (const r of rows) {
        if (inTree.has(r.pid) || !inTree.has(r.ppid)) continue;
        inTree.add(r.pid);
        grew = true;
      }
    }
    return rows.filter((r) => inTree.has(r.pid)).map((r) => r.line).join('\n');
  } catch (error) {
    return `(ps failed: ${error instanceof Error ? error.message : String(error)})`;
  }
}
