import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { newRunId } from '../../src/cli/run-id.js';
import { runsDir } from '../../src/engine/run-ledger.js';
import { verifyEvidence } from '../../src/report/evidence.js';
import type { SuiteSummary } from '../../src/report/suite-summary.js';
import { type JunitDrill, readJunit } from '../support/junit-read.js';
import { validateJunit } from '../support/junit-schema.js';
import { leftovers, runCli } from './helpers.js';
import { runAndKill, waitFor } from './kill-helpers.js';

/**
 * `drill run` as a CI gate, through the real CLI on native PostgreSQL: test/fixtures/gate/ holds
 * one drill of each outcome (a: environment error in a few seconds, b: fails on RTO, c: passes)
 * and one (d, .yml) that only --exclude-tag keeps out (it would be an environment error).
 */
const GATE = 'test/fixtures/gate';
const tmp = mkdtempSync(path.join(os.tmpdir(), 'drill-e2e-gate-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

let n = 0;
function dirs(): { reportsDir: string; junit: string } {
  const base = path.join(tmp, `run-${++n}`);
  return { reportsDir: path.join(base, 'reports'), junit: path.join(base, 'ci', 'junit.xml') };
}

const readSummary = (reportsDir: string) => JSON.parse(readFileSync(path.join(reportsDir, 'summary.json'), 'utf8')) as SuiteSummary;
const runDirsIn = (reportsDir: string) => readdirSync(reportsDir, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name);

/** When `drill run` launched a drill's process: the time in its run id (whole seconds, rounded down). */
function launchedAt(runId: string): number {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z-/.exec(runId)!;
  return Date.parse(`${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6]}Z`);
}

/** A drill launched ahead that never ran: no run dir, no run ledger, no process of it left. */
function expectNoTraceOfSecond(reportsDir: string, scenario: string): void {
  expect(runDirsIn(reportsDir).filter((d) => d.endsWith(`-${scenario}`))).toEqual([]);
  const ledgers = existsSync(runsDir()) ? readdirSync(runsDir()).filter((f) => f.includes(`-${scenario}`)) : [];
  const mine = ledgers.filter((f) => readFileSync(path.join(runsDir(), f), 'utf8').includes(reportsDir));
  expect(mine).toEqual([]);
  // A drill process carries its run plan (with its run dir) in its environment.
  const withPlan = readdirSync('/proc').filter((pid) => /^\d+$/.test(pid) && environOf(pid).includes(reportsDir));
  expect(withPlan).toEqual([]);
}

function environOf(pid: string): string {
  try {
    return readFileSync(`/proc/${pid}/environ`, 'utf8');
  } catch {
    return '';
  }
}

/** The drills in the JUnit file, after checking it against the Jenkins xUnit junit-10.xsd (xmllint). */
function junitCases(file: string): JunitDrill[] {
  expect(validateJunit(file), readFileSync(file, 'utf8')).toEqual({ valid: true, errors: [] });
  return readJunit(readFileSync(file, 'utf8')).drills;
}
const prop = (c: JunitDrill, name: string) => c.properties[name];

describe('drill run as a CI gate (real PostgreSQL, real CLI)', () => {
  it('a directory, minus an excluded tag: each outcome in the table, summary.json and JUnit; exit 3, the worst', async () => {
    const { reportsDir, junit } = dirs();
    const result = await runCli(['run', GATE, '--exclude-tag', 'gate-excluded', '--junit', junit, '--reports-dir', reportsDir]);
    const output = result.stdout + result.stderr;
    expect(result.code, output).toBe(3);

    const summary = readSummary(reportsDir);
    expect(summary.exitCode).toBe(3);
    expect(summary.selection).toEqual({ tags: [], excludeTags: ['gate-excluded'], failFast: false });
    expect(summary.drills.map((d) => [d.scenario, d.status, d.exitCode])).toEqual([
      ['gate-environment-error', 'environment-error', 3],
      ['gate-rto-missed', 'failed', 1],
      ['gate-rto-met', 'passed', 0],
    ]);
    const [env, fail, pass] = summary.drills;
    expect(env!.error?.code).toBe('DRILL_TIMEOUT');
    expect(fail!.rto).toMatchObject({ verdict: 'failed', limitMs: 200 });
    expect(fail!.rto.measuredMs).toBeGreaterThan(200);
    expect(fail!.failedChecks.map((c) => c.check)).toEqual(['rto']);
    expect(pass!.rto).toMatchObject({ verdict: 'passed', limitMs: 600_000 });
    expect(pass!.integrity).toBe('passed');
    // One run dir per drill that ran, each sealed before summary.json was written beside them.
    expect(runDirsIn(reportsDir).sort()).toEqual(summary.drills.map((d) => path.basename(d.runDir!)).sort());
    for (const d of summary.drills) {
      expect(path.dirname(d.runDir!)).toBe(reportsDir);
      expect(leftovers(d.runDir!)).toEqual([]);
    }
    expect((await verifyEvidence(pass!.runDir!)).problems).toEqual([]);
    expect(output).not.toMatch(/gate-excluded/);

    // The table: one row per drill, measured vs limit, and the totals.
    expect(result.stdout).toMatch(/^SCENARIO +STATUS +RTO \(measured\/limit\) +RPO \(measured\/limit\) +INTEGRITY +DURATION$/m);
    expect(result.stdout).toMatch(/^gate-environment-error +ENV ERROR +- +- +- +\S+$/m);
    expect(result.stdout).toMatch(/^gate-rto-missed +FAILED +≤ \S+ \/ 200ms MISSED +\S+ \/ 5m ok +passed +\S+$/m);
    expect(result.stdout).toMatch(/^gate-rto-met +PASSED +≤ \S+ \/ 10m ok +\S+ \/ 5m ok +passed +\S+$/m);
    expect(result.stdout).toMatch(/^3 drills, 1 passed, 1 failed, 1 environment error; exit 3$/m);

    // Valid against the Jenkins xUnit junit-10.xsd with an error, a failure and a pass in it (junitCases).
    const cases = junitCases(junit);
    expect(cases.map((c) => c.name)).toEqual(['gate-environment-error', 'gate-rto-missed', 'gate-rto-met']);
    expect(cases.map((c) => c.suite.file)).toEqual(summary.drills.map((d) => d.file));
    expect(cases[0]!.error?.[0]?.type).toBe('DRILL_TIMEOUT');
    expect(cases[0]!.failure).toBeUndefined();
    expect(cases[1]!.failure?.[0]?.message).toMatch(/^rto: measured ≤ \S+, limit 200ms$/);
    expect(cases[1]!.error).toBeUndefined();
    expect(prop(cases[1]!, 'rto.limit_ms')).toBe('200');
    expect(cases[2]!.failure ?? cases[2]!.error ?? cases[2]!.skipped).toBeUndefined();
  });

  it('a glob with a failing and a passing drill: exit 1, the failure in JUnit', async () => {
    const { reportsDir, junit } = dirs();
    const result = await runCli(['run', `${GATE}/[bc]-*.yaml`, '--junit', junit, '--reports-dir', reportsDir]);
    expect(result.code, result.stdout + result.stderr).toBe(1);
    expect(readSummary(reportsDir).drills.map((d) => d.status)).toEqual(['failed', 'passed']);
    // Without --parallel, one after another: the second starts after the first's verdict.
    expect(result.stdout.indexOf('drill gate-rto-met: run ')).toBeGreaterThan(result.stdout.indexOf('drill gate-rto-missed: FAILED'));
    // Its process was launched ahead, once the first's targets were up (the run id is its launch
    // time): its boot overlapped the first drill; its own clock started after the first ended.
    const [first, second] = readSummary(reportsDir).drills.map((d) => JSON.parse(readFileSync(path.join(d.runDir!, 'journal.json'), 'utf8')) as { runId: string; startedAt: string; endedAt: string });
    expect(launchedAt(second!.runId)).toBeLessThan(Date.parse(first!.endedAt) - 2000);
    expect(Date.parse(second!.startedAt)).toBeGreaterThan(Date.parse(first!.endedAt));
    const cases = junitCases(junit);
    expect(cases.map((c) => [c.name, c.failure?.length ?? 0, c.error?.length ?? 0])).toEqual([
      ['gate-rto-missed', 1, 0],
      ['gate-rto-met', 0, 0],
    ]);
  });

  it('a later drill whose run dir cannot be created: an environment error (exit 3), not bad input, once the first drill ran', async () => {
    const { reportsDir } = dirs();
    // gate-rto-met's run id is <UTC second>-gate-rto-met: a link through a file in its place for the
    // next minutes makes its mkdir fail with ENOTDIR (the input kind before a suite starts), while
    // the run id picker sees nothing there.
    mkdirSync(reportsDir, { recursive: true });
    const file = path.join(tmp, 'a-file');
    writeFileSync(file, '');
    const start = Date.now();
    for (let s = 0; s < 600; s++) symlinkSync(path.join(file, 'x'), path.join(reportsDir, `${newRunId(reportsDir, 'gate-rto-met', new Date(start + s * 1000))}`));
    const result = await runCli(['run', `${GATE}/b-rto-missed.yaml`, `${GATE}/c-rto-met.yaml`, '--reports-dir', reportsDir]);
    const output = result.stdout + result.stderr;
    expect(result.code, output).toBe(3);
    const summary = readSummary(reportsDir);
    expect(summary.drills.map((d) => [d.scenario, d.status, d.exitCode])).toEqual([
      ['gate-rto-missed', 'failed', 1],
      ['gate-rto-met', 'environment-error', 3],
    ]);
    expect(summary.drills[1]!.error?.message).toMatch(/gate-rto-met: is a file, or a path through a file, not a directory/);
    expect(output).toMatch(/drill: --reports-dir .*gate-rto-met: is a file/);
    expect(output).not.toMatch(/Nothing was started/);
  });

  it('--tag selects: only the passing drill runs, exit 0', async () => {
    const { reportsDir } = dirs();
    const result = await runCli(['run', GATE, '--tag', 'gate-pass', '--reports-dir', reportsDir]);
    expect(result.code, result.stdout + result.stderr).toBe(0);
    const summary = readSummary(reportsDir);
    expect(summary.drills.map((d) => [d.scenario, d.status])).toEqual([['gate-rto-met', 'passed']]);
    expect(runDirsIn(reportsDir)).toHaveLength(1);
  });

  it('--fail-fast: stops after the first drill that does not pass; the rest are reported as not run and never start', async () => {
    const { reportsDir, junit } = dirs();
    const result = await runCli(['run', GATE, '--exclude-tag', 'gate-excluded', '--fail-fast', '--junit', junit, '--reports-dir', reportsDir]);
    expect(result.code, result.stdout + result.stderr).toBe(3);
    const summary = readSummary(reportsDir);
    expect(summary.drills.map((d) => [d.scenario, d.status, d.notRun])).toEqual([
      ['gate-environment-error', 'environment-error', undefined],
      ['gate-rto-missed', 'not-run', '--fail-fast: gate-environment-error ended environment-error'],
      ['gate-rto-met', 'not-run', '--fail-fast: gate-environment-error ended environment-error'],
    ]);
    expect(runDirsIn(reportsDir)).toHaveLength(1);
    expect(result.stdout).toMatch(/^gate-rto-missed +NOT RUN /m);
    expect(junitCases(junit).map((c) => c.skipped?.length ?? 0)).toEqual([0, 1, 1]);
  });

  it('--fail-fast after a drill that failed once provisioned: the next drill, launched ahead, is stopped and leaves nothing', async () => {
    const { reportsDir } = dirs();
    const result = await runCli(['run', `${GATE}/b-rto-missed.yaml`, `${GATE}/c-rto-met.yaml`, '--fail-fast', '--reports-dir', reportsDir]);
    expect(result.code, result.stdout + result.stderr).toBe(1);
    expect(readSummary(reportsDir).drills.map((d) => d.status)).toEqual(['failed', 'not-run']);
    expectNoTraceOfSecond(reportsDir, 'gate-rto-met');
  });

  it('kill -9 of `drill run` while the next drill waits, launched ahead: it ends by itself; `drill cleanup` completes its run dir and leaves no ledger', async () => {
    const { reportsDir } = dirs();
    const env = { DRILL_RUNS_DIR: path.join(tmp, `runs-${n}`) };
    const secondDir = () => runDirsIn(reportsDir).find((d) => d.endsWith('-gate-rto-met'));
    await runAndKill({
      scenario: `${GATE}/b-rto-missed.yaml`,
      args: [`${GATE}/c-rto-met.yaml`],
      reportsDir,
      env,
      groups: 'cli',
      what: 'the next drill launched ahead',
      when: () => secondDir() !== undefined && existsSync(path.join(reportsDir, secondDir()!, 'runner.log')),
    });
    const second = path.join(reportsDir, secondDir()!);
    // Its process notices the CLI is gone (every 500 ms) and ends without beginning the drill.
    await waitFor('the drill launched ahead to end', () => !readdirSync('/proc').some((pid) => /^\d+$/.test(pid) && environOf(pid).includes(second)), 30_000);
    expect(existsSync(path.join(second, 'journal.json'))).toBe(false);
    expect(existsSync(path.join(second, 'progress.jsonl'))).toBe(false);
    // The first drill tore down by itself (its CLI is gone); then the reaper's turn.
    await waitFor('every drill process to end', () => !readdirSync('/proc').some((pid) => /^\d+$/.test(pid) && environOf(pid).includes(reportsDir)), 120_000);
    const cleanup = await runCli(['cleanup'], { env });
    expect(cleanup.code, cleanup.stdout + cleanup.stderr).toBe(0);
    expect(existsSync(path.join(second, 'killed.json'))).toBe(true);
    expect(readdirSync(env.DRILL_RUNS_DIR).filter((f) => f.endsWith('.jsonl'))).toEqual([]);
  });

  it('Ctrl-C in the first of two drills: it tears down, the second never starts, the summary says so; exit 130', async () => {
    const { reportsDir, junit } = dirs();
    let sent = false;
    const result = await runCli(['run', `${GATE}/b-rto-missed.yaml`, `${GATE}/c-rto-met.yaml`, '--junit', junit, '--reports-dir', reportsDir], {
      onOutput: (all, child) => {
        if (!sent && /Restore from point-in-time backup …/.test(all)) {
          sent = true;
          child.kill('SIGINT');
        }
      },
    });
    expect(sent).toBe(true);
    expect(result.code, result.stdout + result.stderr).toBe(130);
    const summary = readSummary(reportsDir);
    expect(summary.exitCode).toBe(130);
    expect(summary.drills.map((d) => d.status)).toEqual(['interrupted', 'not-run']);
    expect(leftovers(summary.drills[0]!.runDir!)).toEqual([]);
    expectNoTraceOfSecond(reportsDir, 'gate-rto-met');
    expect(junitCases(junit).map((c) => [c.error?.[0]?.type, c.skipped?.length ?? 0])).toEqual([
      ['INTERRUPTED', 0],
      [undefined, 1],
    ]);
  });

  it('--parallel 2: both drills run at once; the summary keeps the order given; exit 1', async () => {
    const { reportsDir } = dirs();
    const result = await runCli(['run', `${GATE}/b-rto-missed.yaml`, `${GATE}/c-rto-met.yaml`, '--parallel', '2', '--reports-dir', reportsDir]);
    expect(result.code, result.stdout + result.stderr).toBe(1);
    // The second drill started before the first had a verdict (it takes seconds; both start at once).
    expect(result.stdout.indexOf('drill gate-rto-met: run ')).toBeGreaterThanOrEqual(0);
    expect(result.stdout.indexOf('drill gate-rto-met: run ')).toBeLessThan(result.stdout.indexOf('drill gate-rto-missed: FAILED'));
    const summary = readSummary(reportsDir);
    expect(summary.drills.map((d) => [d.scenario, d.status])).toEqual([
      ['gate-rto-missed', 'failed'],
      ['gate-rto-met', 'passed'],
    ]);
    for (const d of summary.drills) expect(leftovers(d.runDir!)).toEqual([]);
  });

  it('--parallel 2 and Ctrl-C while both run: both tear down and end interrupted; exit 130', async () => {
    const { reportsDir } = dirs();
    let sent = false;
    const result = await runCli(['run', `${GATE}/b-rto-missed.yaml`, `${GATE}/c-rto-met.yaml`, '--parallel', '2', '--reports-dir', reportsDir], {
      onOutput: (all, child) => {
        if (!sent && /^\[gate-rto-missed\] .*Inject/m.test(all) && /^\[gate-rto-met\] .*Inject/m.test(all)) {
          sent = true;
          child.kill('SIGINT');
        }
      },
    });
    expect(sent).toBe(true);
    expect(result.code, result.stdout + result.stderr).toBe(130);
    const summary = readSummary(reportsDir);
    expect(summary.drills.map((d) => d.status)).toEqual(['interrupted', 'interrupted']);
    for (const d of summary.drills) expect(leftovers(d.runDir!)).toEqual([]);
  });

  describe('bad input: exit 2 naming it, nothing started (no reports directory, no JUnit)', () => {
    const refused = async (args: string[], message: RegExp) => {
      const { reportsDir, junit } = dirs();
      const result = await runCli(['run', ...args, '--junit', junit, '--reports-dir', reportsDir]);
      expect(result.code, result.stdout + result.stderr).toBe(2);
      expect(result.stderr).toMatch(message);
      expect(existsSync(reportsDir)).toBe(false);
      expect(existsSync(junit)).toBe(false);
    };
    it('a directory without scenarios', async () => {
      const empty = path.join(tmp, 'empty');
      mkdirSync(empty, { recursive: true });
      await refused([GATE, empty], new RegExp(`${empty}: no scenario file .* in this directory`));
    });
    it('a glob matching nothing', () => refused([`${GATE}/zz-*.yaml`], /test\/fixtures\/gate\/zz-\*\.yaml: no scenario file .* matches this pattern/));
    it('tags that select nothing', () => refused([GATE, '--tag', 'no-such-tag'], /no scenario of test\/fixtures\/gate is selected by --tag no-such-tag/));
    it('--parallel that is not a whole number of drills', () => refused([GATE, '--parallel', '0'], /option '--parallel <n>' argument '0' is invalid/));
    it('--junit naming a directory', async () => {
      const { reportsDir } = dirs();
      const result = await runCli(['run', GATE, '--junit', tmp, '--reports-dir', reportsDir]);
      expect(result.code, result.stdout + result.stderr).toBe(2);
      expect(result.stderr).toMatch(/--junit .*: is a directory/);
      expect(existsSync(reportsDir)).toBe(false);
    });
  });
});
