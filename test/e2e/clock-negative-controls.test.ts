import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { readResources } from '../../src/engine/resource-ledger.js';
import { e2eWorkspace, catalogueScenario, leftovers, readJournal, runCli, runDirFrom } from './helpers.js';

// Negative control for clock-skew's proof that the fault took (CLOCK_SKEW_NOT_IN_EFFECT), through
// the real CLI, the real service processes and real PostgreSQL: the processes are restarted with a
// preload library that loads but does not fake the clock, so they answer with the true time.
const { reportsDir, env } = e2eWorkspace('drill-e2e-clock-neg');

/** The C library node itself runs with: it exists on this machine and preloads into node harmlessly. */
function harmlessPreload(): string {
  const found = /\s(\/\S*\/libc\.so\.6)$/m.exec(readFileSync('/proc/self/maps', 'utf8'));
  expect(found, 'node maps no libc.so.6 (a static build?): this control needs a shared library to preload').not.toBeNull();
  return found![1]!;
}

/** Processes still running with FAKETIME in their environment that belong to this run (its service temp dirs in their arguments). */
function skewedProcessesOf(runDir: string): string[] {
  const dirs = readResources(path.join(runDir, 'resources.jsonl'))
    .filter((r) => r.kind === 'temp-dir' && path.basename(r.path).startsWith('drill-sut-'))
    .map((r) => path.basename((r as { path: string }).path));
  expect(dirs.length).toBeGreaterThan(0);
  const found: string[] = [];
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      const environ = readFileSync(`/proc/${pid}/environ`, 'utf8');
      const args = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ');
      if (environ.includes('FAKETIME=') && dirs.some((d) => args.includes(d))) found.push(`${pid} ${args}`);
    } catch {
      // gone meanwhile, or not ours to read
    }
  }
  return found;
}

describe('clock-skew negative controls', () => {
  it('a preload library that does not fake the clock: exit 3 on CLOCK_SKEW_NOT_IN_EFFECT, every process named with its true Date, nothing left', { timeout: 300_000 }, async () => {
    const library = harmlessPreload();
    // The premise: the library loads into node without a loader complaint, and with FAKETIME set
    // the clock stays true (libfaketime would move it two hours).
    const probe = execFileSync(process.execPath, ['-e', 'process.stdout.write(String(Date.now()))'], { env: { ...process.env, LD_PRELOAD: library, FAKETIME: '+7200' }, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    expect(Math.abs(Number(probe) - Date.now())).toBeLessThan(5_000);

    const result = await runCli(['run', catalogueScenario('clock-skew-service-recovery.yaml'), '--reports-dir', reportsDir], { env: { ...env, DRILL_LIBFAKETIME: library } });
    const output = result.stdout + result.stderr;
    const runDir = runDirFrom(result.stdout, reportsDir);
    const journal = readJournal(runDir);
    expect(result.code, output).toBe(3);
    expect(journal.error).toMatchObject({ code: 'CLOCK_SKEW_NOT_IN_EFFECT' });
    const message = journal.error!.message;
    expect(message).toContain(`restarted with libfaketime at +2h but do not show it`);
    expect(message).toContain(`check that ${library} loads into node (LD_PRELOAD)`);
    // Every process of every mode answered, with a true clock, and is named.
    for (const name of ['truststream-api-1', 'truststream-api-2', 'truststream-worker-1', 'truststream-scheduler-1']) {
      const date = new RegExp(`${name} answered Date: ([^;)]+)`).exec(message)?.[1];
      expect(date, `${name} in ${message}`).toBeDefined();
      expect(Math.abs(Date.parse(date!) - Date.now())).toBeLessThan(120_000);
    }
    // No fault counted: no T_fault, no recovery step ran.
    expect(journal.marks.tFault).toBeUndefined();
    expect(journal.steps).toEqual([]);
    // Teardown stopped the restarted processes (FAKETIME in their environment) and removed everything.
    expect(skewedProcessesOf(runDir)).toEqual([]);
    expect(leftovers(runDir)).toEqual([]);
  });
});
