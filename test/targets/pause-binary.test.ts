import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { sleep } from '../../src/engine/clock.js';
import { pauseBinary } from '../../src/targets/images/pause-binary.js';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'drill-pause-test-'));
const started: ChildProcess[] = [];
afterEach(() => {
  for (const child of started.splice(0)) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const exited = (child: ChildProcess) =>
  new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve({ code: child.exitCode, signal: child.signalCode });
    else child.once('exit', (code, signal) => resolve({ code, signal }));
  });

function start(file: string, args: string[] = []): ChildProcess {
  const child = spawn(file, args, { stdio: 'ignore' });
  started.push(child);
  return child;
}

/** Processes whose parent is `ppid`, with their state letter from /proc/<pid>/stat. */
function childrenOf(ppid: number): { pid: number; state: string }[] {
  const found: { pid: number; state: string }[] = [];
  for (const entry of readdirSync('/proc').filter((e) => /^\d+$/.test(e))) {
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const [state, parent] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(parent) === ppid) found.push({ pid: Number(entry), state: state! });
    } catch {
      /* gone */
    }
  }
  return found;
}

function alive(pid: number): boolean {
  try {
    return !readFileSync(`/proc/${pid}/stat`, 'utf8').includes(') Z ');
  } catch {
    return false;
  }
}

async function until<T>(what: string, probe: () => T | undefined, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

/**
 * Runs `program` as PID 1 of a new PID namespace (unshare forks it), then leaves an orphan in
 * that namespace: a shell started there exits right after putting `sleep 1` in the background,
 * so the sleep is re-parented to PID 1 and, once done, is a zombie until PID 1 reaps it.
 * Returns the zombies PID 1 still has after the orphan ended.
 */
async function zombiesLeftUnder(program: string[]): Promise<number> {
  // --kill-child: the namespace's init dies with unshare, whatever happens to this test.
  const unshare = start('unshare', ['--pid', '--fork', '--kill-child', '--', ...program]);
  const init = await until('the namespace init', () => childrenOf(unshare.pid!)[0]?.pid);
  // stdio ignored: execFileSync would otherwise wait for the orphan, which holds the pipe.
  execFileSync('nsenter', [`--target=${init}`, '--pid', '--', '/bin/sh', '-c', 'sleep 1 & exit 0'], { stdio: 'ignore' });
  await until('the orphan re-parented to PID 1', () => (childrenOf(init).length > 0 ? true : undefined));
  await until('the orphan to end', () => (childrenOf(init).every((c) => c.state === 'Z') ? true : undefined));
  await sleep(500);
  const zombies = childrenOf(init).filter((c) => c.state === 'Z').length;
  unshare.kill('SIGKILL');
  await exited(unshare);
  await until('the namespace init to end', () => (childrenOf(unshare.pid!).length === 0 && !alive(init) ? true : undefined));
  return zombies;
}

describe('pause binary (tools/pause/pause.c)', () => {
  it('is built statically and cached by source and compiler', async () => {
    const binary = await pauseBinary(tmp);
    expect(await pauseBinary(tmp)).toBe(binary);
    expect(execFileSync('file', ['-b', binary], { encoding: 'utf8' })).toMatch(/statically linked/);
    expect(execFileSync(binary, ['-v'], { encoding: 'utf8' })).toBe('drill-pause 3.10\n');
  });

  it('sleeps until SIGTERM or SIGINT, then exits 0; other signals do not stop it', async () => {
    const binary = await pauseBinary(tmp);
    for (const stop of ['SIGTERM', 'SIGINT'] as const) {
      const pause = start(binary);
      await sleep(300);
      // SIGCHLD and SIGWINCH have no effect; it is still there afterwards.
      pause.kill('SIGCHLD');
      pause.kill('SIGWINCH');
      await sleep(200);
      expect(pause.exitCode, stop).toBeNull();
      pause.kill(stop);
      expect(await exited(pause)).toEqual({ code: 0, signal: null });
    }
  });

  it('as PID 1 it reaps orphans; a PID 1 that does not (sleep) keeps them as zombies (negative control)', async () => {
    const binary = await pauseBinary(tmp);
    expect(await zombiesLeftUnder([binary])).toBe(0);
    expect(await zombiesLeftUnder(['sleep', '60'])).toBe(1);
  });
});
