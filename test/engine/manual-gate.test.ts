import { spawn } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { continueCommand } from '../../src/cli/continue.js';
import { DrillError } from '../../src/engine/errors.js';
import { FileManualGate, gateDirFor, gateFiles, type ManualWait } from '../../src/engine/manual-gate.js';
import { RunLedger } from '../../src/engine/run-ledger.js';

const readProcState = (pid: number): string | undefined => {
  try {
    return /^\d+ \(.*\) (\S)/.exec(readFileSync(`/proc/${pid}/stat`, 'utf8'))?.[1];
  } catch {
    return undefined;
  }
};

/**
 * The game-day channel between a waiting drill and `drill continue`, on real files in a runs dir
 * of the test's own (the e2e test, test/e2e/game-day.test.ts, drives it through two real CLIs).
 */
const runs = mkdtempSync(path.join(os.tmpdir(), 'drill-gate-test-'));
afterAll(() => rmSync(runs, { recursive: true, force: true }));

const wait = (runId: string, over: Partial<ManualWait> = {}): ManualWait => ({ runId, step: 2, kind: 'manual', title: 'Call the DBA', instructions: 'call', timeoutMs: 60_000, ...over });
/** continueCommand prints what it did; the test checks its result, not its words. */
const quietly = async <T>(fn: () => Promise<T>): Promise<T> => {
  const log = vi.spyOn(console, 'log').mockImplementation(() => undefined);
  try {
    return await fn();
  } finally {
    log.mockRestore();
  }
};

describe('the game-day channel (drill continue)', () => {
  it('a continue for the waiting step ends the wait with its note; the directory is private and recorded for the reaper', async () => {
    const recorded: string[] = [];
    const gate = new FileManualGate(gateDirFor(path.join(runs, 'run-a.jsonl')), (dir) => recorded.push(dir), 20);
    const waiting = gate.waitFor(wait('run-a'), new AbortController().signal);
    await expect.poll(() => existsSync(gateFiles(gate.dir).waiting)).toBe(true);
    expect(recorded).toEqual([path.join(runs, 'drill-gameday-run-a')]);
    expect(statSync(gate.dir).mode & 0o777).toBe(0o700);
    expect(statSync(gateFiles(gate.dir).waiting).mode & 0o777).toBe(0o600);
    // Another step, and an unknown run: bad input, nothing sent, the drill still waits.
    await expect(continueCommand('run-a', { step: 1 }, runs)).rejects.toMatchObject({ code: 'WRONG_STEP', kind: 'input' });
    await expect(continueCommand('run-b', {}, runs)).rejects.toMatchObject({ code: 'NO_SUCH_RUN', kind: 'input' });
    await expect(continueCommand('../run-a', {}, runs)).rejects.toMatchObject({ code: 'BAD_RUN_ID' });
    expect(await quietly(() => continueCommand('run-a', { step: 2, note: 'paged at 10:02' }, runs))).toBe(0);
    expect(await waiting).toMatchObject({ note: 'paged at 10:02' });
    expect(readdirSync(gate.dir)).toEqual([]);
    gate.remove();
    expect(existsSync(gate.dir)).toBe(false);
  });

  it('no continue within the timeout fails the step (a check, not an environment error), naming step and run', async () => {
    const gate = new FileManualGate(gateDirFor(path.join(runs, 'run-c.jsonl')), () => undefined, 20);
    const error = await gate.waitFor(wait('run-c', { timeoutMs: 150 }), new AbortController().signal).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DrillError);
    expect(error).toMatchObject({ code: 'MANUAL_TIMEOUT', kind: 'check' });
    expect((error as Error).message).toMatch(/recovery step 2 \(Call the DBA\): nobody ran `drill continue run-c` within 150ms/);
    // No longer waiting: a late continue is refused.
    await expect(continueCommand('run-c', {}, runs)).rejects.toMatchObject({ code: 'NO_SUCH_RUN' });
    gate.remove();
  });

  it('an abort (Ctrl-C) ends the wait at once and leaves no waiting file', async () => {
    const gate = new FileManualGate(gateDirFor(path.join(runs, 'run-d.jsonl')), () => undefined, 20);
    const abort = new AbortController();
    const waiting = gate.waitFor(wait('run-d'), abort.signal);
    await expect.poll(() => existsSync(gateFiles(gate.dir).waiting)).toBe(true);
    abort.abort(new Error('interrupted'));
    await expect(waiting).rejects.toThrow('interrupted');
    expect(existsSync(gateFiles(gate.dir).waiting)).toBe(false);
    gate.remove();
  });

  it('a running drill that is not waiting is told apart from an unknown or killed one', async () => {
    // A real process stands in for the run's drill: running, then killed.
    const drill = spawn('sleep', ['60'], { stdio: 'ignore' });
    const ledger = RunLedger.create(runs, { runId: 'run-e', runDir: runs });
    ledger.addOwner('drill', drill.pid);
    try {
      await expect(continueCommand('run-e', {}, runs)).rejects.toMatchObject({ code: 'RUN_NOT_WAITING' });
    } finally {
      drill.kill('SIGKILL');
      await new Promise((r) => drill.once('exit', r));
    }
    // Killed (its ledger waits for a reaper): nobody to continue.
    await expect(continueCommand('run-e', {}, runs)).rejects.toMatchObject({ code: 'NO_SUCH_RUN' });
    ledger.remove();
  });

  it('a waiting file of a drill that is now a zombie (killed, not yet reaped) is not a waiting drill', async () => {
    // `sleep 0` exits at once and its parent (exec'd into `sleep 60`) never reaps it: a real zombie,
    // as a drill killed -9 with its parent stays until init reaps it. kill(pid, 0) succeeds on it.
    const holder = spawn('sh', ['-c', 'sleep 0 & echo $!; exec sleep 60'], { stdio: ['ignore', 'pipe', 'ignore'] });
    try {
      const zombie = Number((await new Promise<Buffer>((r) => holder.stdout!.once('data', r))).toString().trim());
      await expect.poll(() => readProcState(zombie)).toBe('Z');
      expect(() => process.kill(zombie, 0)).not.toThrow();
      const gateDir = gateDirFor(path.join(runs, 'run-z.jsonl'));
      const gate = new FileManualGate(gateDir, () => undefined, 20);
      const abort = new AbortController();
      const waiting = gate.waitFor(wait('run-z'), abort.signal);
      await expect.poll(() => existsSync(gateFiles(gate.dir).waiting)).toBe(true);
      // The waiting file as a killed drill left it: its pid is now the zombie's.
      writeFileSync(gateFiles(gate.dir).waiting, JSON.stringify({ ...wait('run-z'), since: new Date().toISOString(), pid: zombie }), { mode: 0o600 });
      await expect(continueCommand('run-z', {}, runs)).rejects.toMatchObject({ code: 'NO_SUCH_RUN' });
      expect(existsSync(gateFiles(gate.dir).go)).toBe(false);
      abort.abort();
      await waiting.catch(() => undefined);
      gate.remove();
    } finally {
      holder.kill('SIGKILL');
    }
  });

  it.runIf(process.getuid?.() === 0)('refuses a continue file another user wrote (as root: chown to nobody)', async () => {
    const gate = new FileManualGate(gateDirFor(path.join(runs, 'run-f.jsonl')), () => undefined, 20);
    const waiting = gate.waitFor(wait('run-f', { timeoutMs: 600 }), new AbortController().signal);
    await expect.poll(() => existsSync(gateFiles(gate.dir).waiting)).toBe(true);
    const forged = gateFiles(gate.dir).go;
    writeFileSync(forged, JSON.stringify({ step: 2, note: 'forged' }));
    chownSync(forged, 65534, 65534);
    await expect(waiting).rejects.toMatchObject({ code: 'MANUAL_TIMEOUT' });
    gate.remove();
  });
});
