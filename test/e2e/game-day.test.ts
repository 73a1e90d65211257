import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runsDir } from '../../src/engine/run-ledger.js';
import { GATE_PREFIX } from '../../src/engine/manual-gate.js';
import { RUNBOOK_COPY } from '../runbook/shipped-runbook.js';
import { ownersGone, runAndKill, type RunState } from './kill-helpers.js';
import { leftovers, OWN_RUN_LINE, readJournal, ROOT, runCli, runDirFrom, type CliResult } from './helpers.js';

const reportsDir = mkdtempSync(path.join(os.tmpdir(), 'drill-e2e-gameday-'));
afterAll(() => rmSync(reportsDir, { recursive: true, force: true }));

const fixture = (name: string) => path.join(ROOT, 'test/fixtures/scenarios', name);
const WAITING = /step 1 \(Identify the corruption extent\) is yours: waiting for drill continue/;
/** How long the "person" takes after the drill says it waits: the step, and the RTO, cannot be shorter. */
const PERSON_MS = 4000;
const NOTE = 'transfers_pkey leaf page 1 damaged; IC agreed to REINDEX';

/** No channel of this run is left in the runs dir (the drill removes it; a reaper would after a kill). */
function channelLeft(runId: string): string[] {
  const dir = runsDir();
  return existsSync(dir) ? readdirSync(dir).filter((n) => n.startsWith(`${GATE_PREFIX}${runId}`)) : [];
}

describe('drill run --game-day (real PostgreSQL, real CLI, drill continue from a second process)', () => {
  it('waits at the manual step until `drill continue`; the person\'s time is the step\'s duration and in the RTO', async () => {
    let continued: Promise<{ result: CliResult; sentAfterMs: number }> | undefined;
    let wrongStep: Promise<CliResult> | undefined;
    const result = await runCli(['run', fixture('gameday-manual-step.yaml'), '--game-day', '--runbook', RUNBOOK_COPY, '--reports-dir', reportsDir], {
      onOutput: (all) => {
        if (continued || !WAITING.test(all)) return;
        const runId = OWN_RUN_LINE.exec(all)![1]!;
        const seen = performance.now();
        // A continue for another step is refused and sends nothing: the drill keeps waiting.
        wrongStep = runCli(['continue', runId, '--step', '2']);
        continued = (async () => {
          await wrongStep;
          await new Promise((r) => setTimeout(r, PERSON_MS));
          const sentAfterMs = performance.now() - seen;
          return { result: await runCli(['continue', runId, '--step', '1', '--note', NOTE]), sentAfterMs };
        })();
      },
    });
    expect(continued, result.stdout + result.stderr).toBeDefined();
    const { result: cont, sentAfterMs } = await continued!;
    const wrong = await wrongStep!;
    expect(wrong.code, wrong.stdout + wrong.stderr).toBe(2);
    expect(wrong.stderr).toMatch(/waits at step 1 \(Identify the corruption extent\), not step 2; nothing was sent/);
    expect(cont.code, cont.stdout + cont.stderr).toBe(0);
    expect(cont.stdout).toMatch(/step 1 \(Identify the corruption extent\) continued, note recorded/);

    expect(result.code, result.stdout + result.stderr).toBe(0);
    // What the person was told: the runbook procedure the step names, and the command to continue.
    expect(result.stdout).toMatch(/\| Runbook: Identify corruption extent \(.*truststream-rollback-dr-procedures\.md, line \d+\)/);
    expect(result.stdout).toMatch(/\|\s+\.\/scripts\/database\/analyze-corruption\.sh/);
    expect(result.stdout).toMatch(/npx drill continue \S+ --step 1/);

    const runDir = runDirFrom(result.stdout, reportsDir);
    const journal = readJournal(runDir);
    expect(journal.status).toBe('passed');
    const manual = journal.steps[0]!;
    const reindex = journal.steps[1]!;
    expect(manual).toMatchObject({ name: 'manual', status: 'passed', output: { manual: { performedBy: 'a person', note: NOTE } } });
    // The drill waited from before it printed the line until after the continue was sent: at least the person's time.
    expect(manual.end!.t - manual.start.t).toBeGreaterThanOrEqual(sentAfterMs);
    expect((manual.output as { manual: { waitedMs: number } }).manual.waitedMs).toBeGreaterThanOrEqual(sentAfterMs);
    expect(reindex).toMatchObject({ name: 'reindex', status: 'passed' });
    expect(reindex.start.t).toBeGreaterThanOrEqual(manual.end!.t);
    // The service is back only after the REINDEX that followed the person: the RTO holds their time.
    expect(journal.measurements.rtoMs).toBeGreaterThanOrEqual(sentAfterMs);
    expect(journal.events.find((e) => e.kind === 'manual-continued')?.message).toContain(NOTE);

    // Finished: the channel is gone, and continuing it is bad input.
    expect(channelLeft(journal.runId)).toEqual([]);
    expect(leftovers(runDir)).toEqual([]);
    const late = await runCli(['continue', journal.runId]);
    expect(late.code).toBe(2);
    expect(late.stderr).toMatch(/no running drill \S+ of this user on this machine.*nothing was sent\n\(NO_SUCH_RUN\)/);
  });

  it('negative control: nobody continues within manualTimeout, so the step fails and the drill fails (exit 1)', async () => {
    const result = await runCli(['run', fixture('gameday-nobody-continues.yaml'), '--game-day', '--reports-dir', reportsDir]);
    expect(result.code, result.stdout + result.stderr).toBe(1);
    expect(result.stdout).toMatch(/waiting for drill continue \(timeout 2s\)/);
    expect(result.stdout).toMatch(/FAIL recovery-steps: .*recovery step 1 \(Identify the corruption extent\): nobody ran `drill continue \S+` within 2s \(manualTimeout\)/);
    const runDir = runDirFrom(result.stdout, reportsDir);
    const journal = readJournal(runDir);
    expect(journal.steps.map((s) => `${s.name} ${s.status}`)).toEqual(['manual failed', 'reindex skipped']);
    expect(channelLeft(journal.runId)).toEqual([]);
    expect(leftovers(runDir)).toEqual([]);
  });

  it('Ctrl-C while waiting for a person: exit 130, teardown ran, the channel is gone', async () => {
    let sent = false;
    const result = await runCli(['run', fixture('gameday-manual-step.yaml'), '--game-day', '--reports-dir', reportsDir], {
      onOutput: (all, child) => {
        if (!sent && WAITING.test(all)) {
          sent = true;
          child.kill('SIGINT');
        }
      },
    });
    expect(sent).toBe(true);
    expect(result.code, result.stdout + result.stderr).toBe(130);
    const runDir = runDirFrom(result.stdout, reportsDir);
    const journal = readJournal(runDir);
    expect(journal.status).toBe('interrupted');
    expect(journal.phases.find((p) => p.name === 'teardown')?.status).toBe('passed');
    expect(channelLeft(journal.runId)).toEqual([]);
    expect(leftovers(runDir)).toEqual([]);
  });

  /** The same drill with no person-only step: the REINDEX itself is marked manual. */
  function manualReindex(): string {
    const text = readFileSync(fixture('gameday-manual-step.yaml'), 'utf8')
      .replace(/name: gameday-manual-step/, 'name: gameday-manual-reindex')
      .replace(/ {2}- step: manual\n( {4}.*\n)+ {2}- step: reindex\n/, '  - step: reindex\n    manual: true\n    manualTimeout: 3m\n');
    expect(text).toMatch(/- step: reindex\n {4}manual: true\n/);
    const file = path.join(reportsDir, 'gameday-manual-reindex.yaml');
    writeFileSync(file, text);
    return file;
  }

  it('manual: true on a step drill can perform: a game day waits for the person, then drill performs it', async () => {
    let continued: Promise<CliResult> | undefined;
    const result = await runCli(['run', manualReindex(), '--game-day', '--reports-dir', reportsDir], {
      onOutput: (all) => {
        if (!continued && /step 1 \(Rebuild damaged indexes \(REINDEX\)\) is yours: waiting for drill continue/.test(all)) {
          continued = runCli(['continue', OWN_RUN_LINE.exec(all)![1]!, '--note', 'go ahead']);
        }
      },
    });
    expect((await continued!)?.code).toBe(0);
    expect(result.code, result.stdout + result.stderr).toBe(0);
    const step = readJournal(runDirFrom(result.stdout, reportsDir)).steps[0]!;
    expect(step).toMatchObject({ name: 'reindex', status: 'passed', output: { rebuilt: [{ index: 'transfers_pkey' }], manual: { performedBy: 'a person, then drill', note: 'go ahead' } } });
  });

  it('manual: true without --game-day: drill performs the step itself and says so', async () => {
    const result = await runCli(['run', manualReindex(), '--reports-dir', reportsDir]);
    expect(result.code, result.stdout + result.stderr).toBe(0);
    expect(result.stdout).toMatch(/step 1 \(Rebuild damaged indexes \(REINDEX\)\) is manual: true; without --game-day drill performs it itself/);
    expect(result.stdout).not.toMatch(/waiting for drill continue/);
    const step = readJournal(runDirFrom(result.stdout, reportsDir)).steps[0]!;
    expect(step).toMatchObject({ name: 'reindex', status: 'passed', output: { manual: { performedBy: 'drill (no --game-day)' } } });
  });

  it('kill -9 of `drill run` and the drill while waiting: `drill continue` finds nobody, `drill cleanup` removes the channel', async () => {
    // A runs directory of the test's own, as in killed-drill.test.ts: its reaper touches no other drill.
    const runs = mkdtempSync(path.join(os.tmpdir(), 'drill-e2e-gameday-runs-'));
    const env = { DRILL_RUNS_DIR: runs };
    try {
      const channel = (s: RunState) => s.ledger.resources.flatMap((r) => (r.kind === 'temp-dir' && path.basename(r.path).startsWith(GATE_PREFIX) ? [r] : []))[0];
      const killed = await runAndKill({
        scenario: fixture('gameday-manual-step.yaml'),
        args: ['--game-day'],
        reportsDir,
        env,
        groups: 'cli-and-drill',
        when: (s) => existsSync(path.join(channel(s)?.path ?? '/nonexistent', 'waiting.json')),
        what: 'the manual step',
      });
      await ownersGone(killed.ledgerFile);
      // Negative control: killed like this, the channel is left behind (with the drill's PostgreSQL).
      const left = readdirSync(runs).filter((n) => n.startsWith(GATE_PREFIX));
      expect(left).toEqual([`${GATE_PREFIX}${killed.runId}`]);
      const late = await runCli(['continue', killed.runId], { env });
      expect(late.code, late.stdout + late.stderr).toBe(2);
      expect(late.stderr).toMatch(/\(NO_SUCH_RUN\)/);
      const cleanup = await runCli(['cleanup'], { env });
      expect(cleanup.code, cleanup.stdout + cleanup.stderr).toBe(0);
      expect(cleanup.stdout).toContain(`removed dir ${path.join(runs, left[0]!)}`);
      expect(readdirSync(runs)).toEqual([]);
      expect(leftovers(killed.runDir)).toEqual([]);
    } finally {
      await runCli(['cleanup'], { env });
      rmSync(runs, { recursive: true, force: true });
    }
  });

  it('a plain run refuses a manual step (exit 2, file:line, key, "run with --game-day"), nothing started', async () => {
    const reports = path.join(reportsDir, 'plain');
    const result = await runCli(['run', fixture('gameday-manual-step.yaml'), '--reports-dir', reports]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/gameday-manual-step\.yaml:\d+:\d+ recovery\[0\]\.step: a manual step .*run with --game-day/);
    expect(existsSync(reports)).toBe(false);
  });
});
